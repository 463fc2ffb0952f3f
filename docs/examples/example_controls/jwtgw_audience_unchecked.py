"""The JWT gateway example decodes tokens with ``verify_aud`` off (the usual answer to PyJWT's "Invalid audience"
error): a token issued by another gateway of the same key hierarchy (another device of the same person) is
accepted, and a session revoked there is not revoked here."""

from __future__ import annotations

from jwt_gateway import service, tokens

from aico_secure.reference.consent import ReferenceConsent
from aico_secure.reference.keys import ReferenceKeys
from aico_secure.target import Target

BREAKS = ("AICO-GW-002",)


class AnyAudienceTokens(tokens.TokenService):
    decode_options = {**tokens.TokenService.decode_options, "verify_aud": False}


class AnyAudienceGateway(service.JwtGateway):
    tokens_class = AnyAudienceTokens


def build() -> Target:
    return Target(name="negative control: JWT audience not verified", version="0", keys=ReferenceKeys(),
                  gateway=AnyAudienceGateway(consent=ReferenceConsent()))
