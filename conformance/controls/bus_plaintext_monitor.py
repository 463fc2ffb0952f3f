"""A live-view monitor: the broker republishes every message to its own monitor over the PLAIN mechanism.

The monitor endpoint listens on loopback (and is even reported), and a ZAP rule admits only the monitor's
username with its per-installation password, so strangers, NULL clients and PLAIN clients with guessed
credentials get nothing: every authentication requirement still passes. The flaw is the mechanism: PLAIN
authenticates but does not encrypt, so every bus message (and the password) crosses the loopback link in the
clear, readable to anyone who can observe it.
"""

from __future__ import annotations

import secrets
import time

import zmq

from aico_secure.audit.events import AuditSink
from aico_secure.reference.bus import ReferenceBus
from aico_secure.target import Target
from aico_secure.transport.bus import Broker, BrokerConfig
from aico_secure.transport.bus.allowlist import Allowlist
from aico_secure.transport.bus.zap import AllowlistAuthenticator

from ._base import reference_with

BREAKS = ("AICO-BUS-006",)
MONITOR_DOMAIN = b"aico-monitor"
MONITOR_USER = b"live-view"


class MonitorAwareAuthenticator(AllowlistAuthenticator):
    """The CURVE allowlist as before, plus one PLAIN account on the monitor domain."""

    def __init__(self, context: zmq.Context[zmq.Socket[bytes]], allowlist: Allowlist, domain: str,
                 monitor_password: bytes) -> None:
        super().__init__(context, allowlist, domain)
        self._monitor_password = monitor_password

    async def handle_zap_message(self, msg: list[bytes]) -> None:
        if (len(msg) >= 8 and msg[5] == b"PLAIN" and msg[2] == MONITOR_DOMAIN and msg[6] == MONITOR_USER
                and secrets.compare_digest(msg[7], self._monitor_password)):
            self._send_zap_reply(msg[1], b"200", b"OK", "monitor#0")
            return
        await super().handle_zap_message(msg)


class MonitoredBroker(Broker):
    """Opens a PLAIN XPUB "monitor" endpoint and connects its own live-view SUB to it with the password."""

    def __init__(self, config: BrokerConfig, audit: AuditSink | None = None) -> None:
        self._monitor_password = secrets.token_hex(16).encode()
        super().__init__(config, audit)

    def _make_authenticator(self) -> AllowlistAuthenticator:
        return MonitorAwareAuthenticator(self._context, self.allowlist, self.config.zap_domain,
                                         self._monitor_password)

    def _open_sockets(self) -> None:
        super()._open_sockets()
        tap = self._context.socket(zmq.XPUB)
        tap.linger = 0
        tap.plain_server = True
        tap.zap_domain = MONITOR_DOMAIN
        for _attempt in range(150):  # after a key rotation the same port is re-bound; wait for the old socket
            try:
                tap.bind(self._bound.get("monitor", "tcp://127.0.0.1:*"))
                break
            except zmq.ZMQError:
                time.sleep(0.02)
        self._bound["monitor"] = tap.getsockopt_string(zmq.LAST_ENDPOINT)
        self._sockets["monitor"] = tap
        viewer = self._context.socket(zmq.SUB)
        viewer.linger = 0
        viewer.plain_username, viewer.plain_password = MONITOR_USER, self._monitor_password
        viewer.setsockopt(zmq.SUBSCRIBE, b"")
        viewer.connect(self._bound["monitor"])
        self._sockets["monitor-view"] = viewer
        self._handlers[viewer] = self._on_monitor_view
        self._poller.register(viewer, zmq.POLLIN)

    def _on_monitor_view(self, viewer: zmq.Socket[bytes]) -> None:
        """The admin UI's live view; here it only drains: what matters is that the messages crossed the link."""
        while True:
            try:
                viewer.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return

    def _forward(self, backend: zmq.Socket[bytes], topic: zmq.Frame, payload: zmq.Frame) -> None:
        super()._forward(backend, topic, payload)
        tap = self._sockets.get("monitor")
        if tap is not None:
            try:
                tap.send_multipart([topic.bytes, payload.bytes], zmq.NOBLOCK)
            except zmq.Again:
                pass


class MonitoredBus(ReferenceBus):
    broker_class = MonitoredBroker


def build() -> Target:
    return reference_with("bus mirrored to a PLAIN-mechanism live-view monitor", bus=MonitoredBus())
