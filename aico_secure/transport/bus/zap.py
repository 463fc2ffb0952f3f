"""The ZAP handler: admits a CURVE client only if its public key is on the broker's explicit allowlist.

Built on pyzmq's ``ThreadAuthenticator`` (the maintained ZAP implementation) with two tightenings: every
mechanism other than CURVE is refused outright (pyzmq admits NULL by default), and a key is admitted only by the
allowlist callback, never by ``CURVE_ALLOW_ANY``. The User-Id it stamps on the session is ``component#generation``,
which the broker re-checks on every message.
"""

from __future__ import annotations

import logging

import zmq
from zmq.auth.thread import ThreadAuthenticator
from zmq.utils import z85

from aico_secure.transport.bus.allowlist import Allowlist

_LOG = logging.getLogger("aico_secure.transport.bus.zap")
UNKNOWN_USER = "unknown#0"


class _AllowlistProvider:
    """pyzmq's credentials-provider protocol: ``callback(domain, z85_key) -> bool``."""

    def __init__(self, allowlist: Allowlist) -> None:
        self._allowlist = allowlist

    def callback(self, domain: str, key: bytes) -> bool:
        return self._allowlist.by_key(key) is not None


class AllowlistAuthenticator(ThreadAuthenticator):
    """Runs in its own thread of ``context``; one per broker, since ZAP is bound per context."""

    def __init__(self, context: zmq.Context[zmq.Socket[bytes]], allowlist: Allowlist, domain: str) -> None:
        super().__init__(context, log=_LOG)
        self._allowlist = allowlist
        self.configure_curve_callback(domain, _AllowlistProvider(allowlist))

    def curve_user_id(self, client_public_key: bytes) -> str:
        entry = self._allowlist.by_key(z85.encode(client_public_key))
        return entry.user_id if entry is not None else UNKNOWN_USER

    async def handle_zap_message(self, msg: list[bytes]) -> None:
        if len(msg) >= 6 and msg[5] != b"CURVE":
            self._send_zap_reply(msg[1], b"400", b"CURVE required")
            return
        await super().handle_zap_message(msg)
