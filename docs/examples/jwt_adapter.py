"""A second worked example of the target contract: the reference keys with an outside team's gateway.

``jwt_gateway`` (next to this file) is a gateway written the way another team would: FastAPI and pydantic,
PyJWT tokens, password login over TLS with Argon2id hashes at rest. It implements the contract's optional
``LoginHook``, so the suite logs in with the build's own client and judges every other route over HTTP. Run it:

    PYTHONPATH=docs/examples aico-secure conform --target jwt_adapter:build \\
        --pytest-args "<checkout>/conformance/gateway"

AICO-GW-002..005 pass; AICO-GW-001 fails, as it must: the server receives the password, so the login is not a
zero-knowledge proof. The build has no capabilities but keys and gateway; the consent service behind the data
routes is the reference's, handed to the gateway only (as the reference build does with its own).
"""

from __future__ import annotations

from jwt_gateway import JwtGateway

from aico_secure.reference.consent import ReferenceConsent
from aico_secure.reference.keys import ReferenceKeys
from aico_secure.target import Target


def build() -> Target:
    return Target(name="jwt gateway example", version="0.1.0", keys=ReferenceKeys(),
                  gateway=JwtGateway(consent=ReferenceConsent()))
