"""The reference AICO build: every capability of the architecture, assembled behind the target contract.

``build()`` is the factory the conformance suite loads (``--target aico_secure.reference:build``), exactly as
it would load any other build.
"""

from __future__ import annotations

from aico_secure import __version__
from aico_secure.reference.audit import ReferenceAudit
from aico_secure.reference.bus import ReferenceBus
from aico_secure.reference.consent import ReferenceConsent
from aico_secure.reference.gateway import ReferenceGateway
from aico_secure.reference.keys import ReferenceKeys
from aico_secure.reference.stores import reference_stores
from aico_secure.reference.tls import ReferenceTls
from aico_secure.target.contract import Target


def build() -> Target:
    stores = reference_stores()
    consent = ReferenceConsent(store=stores["libsql"])  # one consent implementation: the gateway's data routes too
    return Target(name="aico-secure reference", version=__version__, keys=ReferenceKeys(), bus=ReferenceBus(),
                  tls=ReferenceTls(), stores=stores, consent=consent, audit=ReferenceAudit(),
                  gateway=ReferenceGateway(consent=consent))
