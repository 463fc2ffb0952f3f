"""The ZAP handler: admits a CURVE client only if its public key is on the broker's explicit allowlist.

Built on pyzmq's ``ThreadAuthenticator`` (the maintained ZAP implementation) with two tightenings: every
mechanism other than CURVE is refused outright (pyzmq admits NULL by default), and a key is admitted only by the
allowlist callback, never by ``CURVE_ALLOW_ANY``. The User-Id it stamps on the session is ``component#generation``,
which the broker re-checks on every message.
"""

from __future__ import annotations

import logging

import zmq
from zmq.auth.base import Authenticator
from zmq.auth.thread import ThreadAuthenticator
from zmq.utils import z85

from aico_secure.transport.bus.allowlist import Allowlist

_LOG = logging.getLogger("aico_secure.transport.bus.zap")
UNKNOWN_USER = "unknown#0"
CURVE_KEY_BYTES = 32  # a CURVE public key as ZAP carries it: raw, not Z85
STOP_SECONDS = 5.0  # how long stopping waits for the authenticator thread


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

    def stop(self) -> None:
        """pyzmq's stop, except that it never blocks: if the thread has ended (a handler raised), nobody reads
        the TERMINATE message, and pyzmq's blocking send on its pipe would hang the broker's shutdown forever."""
        if self.pipe is not None:
            if self.thread is not None and self.thread.is_alive():
                try:
                    self.pipe.send(b"TERMINATE", flags=zmq.NOBLOCK)
                except zmq.Again:
                    _LOG.warning("the ZAP thread did not take its stop message")
                self.thread.join(STOP_SECONDS)
            self.thread = None  # type: ignore[assignment]
            self.pipe.close(linger=0)
            self.pipe = None  # type: ignore[assignment]
        Authenticator.stop(self)

    def curve_user_id(self, client_public_key: bytes) -> str:
        entry = self._allowlist.by_key(z85.encode(client_public_key))
        return entry.user_id if entry is not None else UNKNOWN_USER

    async def handle_zap_message(self, msg: list[bytes]) -> None:
        if len(msg) >= 6 and msg[5] != b"CURVE":
            self._send_zap_reply(msg[1], b"400", b"CURVE required")
            return
        if len(msg) == 7 and len(msg[6]) != CURVE_KEY_BYTES:
            # pyzmq Z85-encodes the key before asking the allowlist and raises on a length that is not a multiple
            # of 4; raised here, that would end the authenticator thread and leave every later handshake unanswered.
            self._send_zap_reply(msg[1], b"400", b"Invalid credentials")
            return
        try:
            await super().handle_zap_message(msg)
        except Exception:  # noqa: BLE001 - anything raised here would end the authenticator thread
            # Fail closed and keep the thread: the client is refused, every later handshake is still answered.
            _LOG.exception("ZAP request could not be handled; refused")
            if len(msg) >= 2:
                try:
                    self._send_zap_reply(msg[1], b"500", b"Internal error")
                except zmq.ZMQError:
                    _LOG.exception("ZAP refusal could not be sent")
