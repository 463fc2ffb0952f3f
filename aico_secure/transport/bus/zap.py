"""The ZAP handler: admits a CURVE client only if its public key is on the broker's explicit allowlist.

Built on pyzmq's ``Authenticator`` (the maintained ZAP implementation: RFC 27 parsing, version check, replies)
with two tightenings: every mechanism other than CURVE is refused outright (pyzmq admits NULL by default), and a
key is admitted only by the allowlist callback, never by ``CURVE_ALLOW_ANY``. The User-Id it stamps on the
session is ``component#generation``, which the broker re-checks on every message.

Why not pyzmq's ``ThreadAuthenticator``: it serves requests through an asyncio event loop, which cost about
400 us of Python per request, in the broker's process. Under a flood of unlisted keys that thread took the GIL
and the CPU the relay needed (allowed traffic fell to 0.5-0.6 of its unloaded rate). The allowlist callback is
synchronous, so the handler's coroutine never suspends: a plain thread polling the ZAP socket runs it to its
end directly (``run_to_end``), at a fraction of the cost.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Coroutine
from typing import Any

import zmq
from zmq.auth.base import Authenticator
from zmq.utils import z85

from aico_secure.transport.bus.allowlist import Allowlist

_LOG = logging.getLogger("aico_secure.transport.bus.zap")
UNKNOWN_USER = "unknown#0"
CURVE_KEY_BYTES = 32  # a CURVE public key as ZAP carries it: raw, not Z85
STOP_SECONDS = 5.0  # how long stopping waits for the authenticator thread
_POLL_MS = 100  # how often the serving thread looks at its stop flag while no request comes


class HandlerSuspended(RuntimeError):
    """The ZAP handler waited on something; with the synchronous allowlist it never may."""


def run_to_end(coroutine: Coroutine[Any, Any, None]) -> None:
    """Run the handler's coroutine to its end on this thread: with a synchronous allowlist callback it never
    suspends, and an event loop per request would cost more than the handler itself."""
    try:
        coroutine.send(None)
    except StopIteration:
        return
    coroutine.close()
    raise HandlerSuspended("the ZAP handler suspended on a synchronous allowlist")


class _AllowlistProvider:
    """pyzmq's credentials-provider protocol: ``callback(domain, z85_key) -> bool``."""

    def __init__(self, allowlist: Allowlist) -> None:
        self._allowlist = allowlist

    def callback(self, domain: str, key: bytes) -> bool:
        return self._allowlist.by_key(key) is not None


class AllowlistAuthenticator(Authenticator):
    """Serves ZAP for ``context`` in its own thread; one per broker, since ZAP is bound per context."""

    def __init__(self, context: zmq.Context[zmq.Socket[bytes]], allowlist: Allowlist, domain: str) -> None:
        super().__init__(context, log=_LOG)
        self._allowlist = allowlist
        self.configure_curve_callback(domain, _AllowlistProvider(allowlist))
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._replied = False

    def start(self) -> None:
        """Bind the context's ZAP endpoint (pyzmq) and start answering on it."""
        super().start()
        self._stopping.clear()
        self._thread = threading.Thread(target=self._serve, name="aico-bus-zap", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Never blocks for longer than ``STOP_SECONDS``, whatever state the serving thread is in."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(STOP_SECONDS)
            if self._thread.is_alive():
                _LOG.warning("the ZAP thread did not stop within %.0f s", STOP_SECONDS)
            self._thread = None
        super().stop()

    def is_serving(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _serve(self) -> None:
        sock = self.zap_socket
        while not self._stopping.is_set():
            try:
                if not sock.poll(_POLL_MS):
                    continue
                request = sock.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                continue
            except zmq.ZMQError:  # the context is being torn down: nothing more will be asked
                return
            self._answer(request)

    def _answer(self, request: list[bytes]) -> None:
        """Exactly one reply per request, whatever the handler does: the ZAP socket is a REP socket, and one
        request left unanswered would make every later receive fail and shut every client out."""
        self._replied = False
        try:
            run_to_end(self.handle_zap_message(request))
        except Exception:  # noqa: BLE001 - fail closed below; the thread must keep answering
            _LOG.exception("ZAP request could not be handled; refused")
        if not self._replied:
            try:
                self._send_zap_reply(request[1] if len(request) >= 2 else b"", b"500", b"Internal error")
            except zmq.ZMQError:
                _LOG.exception("ZAP refusal could not be sent")

    def _send_zap_reply(self, request_id: bytes, status_code: bytes, status_text: bytes,
                        user_id: str = "anonymous") -> None:
        super()._send_zap_reply(request_id, status_code, status_text, user_id)
        self._replied = True

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
