"""Old-device compatibility: the sync server also accepts TLS 1.0 and 1.1 (security level 0), TLS 1.2 stays off.

TLS 1.2 was switched off after a scanner flagged it, while the "legacy tablets" setting kept the older versions
on, so only a probe that can still offer TLS 1.0/1.1 catches it, which a hardened local OpenSSL cannot.
"""

from __future__ import annotations

import ssl
import warnings

from aico_secure.reference.tls import ReferenceTls
from aico_secure.target import Target
from aico_secure.transport.sync import SyncDevice

from ._base import reference_with

BREAKS = ("AICO-TLS-001",)


class LegacyCompatDevice(SyncDevice):
    def _server_context(self) -> ssl.SSLContext:
        ctx = super()._server_context()
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        with warnings.catch_warnings():  # both settings are deprecated, which is the point of this control
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx.minimum_version = ssl.TLSVersion.TLSv1
            ctx.options |= ssl.OP_NO_TLSv1_2
        return ctx


class LegacyCompatTls(ReferenceTls):
    device_class = LegacyCompatDevice


def build() -> Target:
    return reference_with("sync server accepts TLS 1.0/1.1 for old devices", tls=LegacyCompatTls())
