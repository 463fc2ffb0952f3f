"""The JWT gateway example's audit trail names the token an event is about by the token itself instead of its
fingerprint ("to match client bug reports"): every login, refresh and logout writes a working token into the
audit log."""

from __future__ import annotations

from jwt_gateway import audit, service

from aico_secure.reference.consent import ReferenceConsent
from aico_secure.reference.keys import ReferenceKeys
from aico_secure.target import Target

BREAKS = ("AICO-AUD-002",)


class RawTokenTrail(audit.AuthTrail):
    def reference(self, token: str) -> str:
        return token


class RawTokenGateway(service.JwtGateway):
    trail_class = RawTokenTrail


def build() -> Target:
    return Target(name="negative control: tokens in audit events", version="0", keys=ReferenceKeys(),
                  gateway=RawTokenGateway(consent=ReferenceConsent()))
