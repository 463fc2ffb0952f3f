"""The bus broker: a CURVE-only XSUB/XPUB relay that checks every message against the allowlist.

Why XSUB/XPUB and not ROUTER/DEALER: components stay plain PUB and SUB sockets (what AICO's bus uses, and what
any ZeroMQ binding offers), and libzmq does the subscription matching and fan-out in C. Enforcement still
happens here and not on trust: every published message carries its session's ZAP User-Id, so the broker checks
the sender's live enrollment and publish grants before forwarding; the subscriber side runs ``XPUB_MANUAL``, so a
subscription takes effect only when the broker applies it for that peer after checking its subscribe grants.

Sessions cannot be closed one by one on a bound ZeroMQ socket. Revoking or rotating a key therefore (1) stops
forwarding anything the old key's sessions send at once (their User-Id no longer maps to a live enrollment) and
(2) re-creates both listening sockets on the same endpoints, which ends every session; allowed components
reconnect within their reconnect interval (100 ms by default) through ZAP again, the revoked key does not. The
bus process and its allowlist are never restarted.

Every failed handshake the sockets report (wrong mechanism, unlisted key, wrong server key, garbage) is counted
and sent to the audit sink as ``AuditEvent(category="auth", result="failure")``.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import zmq
from zmq.utils.monitor import recv_monitor_message

from aico_secure.audit.events import AuditEvent, AuditSink, NullAuditSink
from aico_secure.transport.bus import keys
from aico_secure.transport.bus.allowlist import FILE_NAME, Allowlist, Enrollment, validate_component
from aico_secure.transport.bus.endpoints import connect_form, is_loopback_host
from aico_secure.transport.bus.topics import MalformedTopic, may_publish, may_subscribe, parse_topic
from aico_secure.transport.bus.zap import AllowlistAuthenticator
from aico_secure.transport.errors import BusConfigError, BusError

_LOG = logging.getLogger("aico_secure.transport.bus.broker")
_FAILED_HANDSHAKE: dict[int, str] = {
    int(zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL): "handshake-failed",
    int(zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL): "protocol-error",
    int(zmq.EVENT_HANDSHAKE_FAILED_AUTH): "rejected-by-zap",
}
_PROTOCOL_REASONS: dict[int, str] = {
    int(zmq.PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH): "mechanism-mismatch",
    int(zmq.PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC): "cryptographic-failure",
}
_DRAIN = 512  # messages handled per socket per loop turn, so one busy socket cannot starve the others
_POLL_MS = 50
_REBIND_SECONDS = 3.0


@dataclass(frozen=True)
class BrokerConfig:
    """How a broker listens. Defaults: loopback TCP on ephemeral ports, 256 KiB messages, 5 s handshakes."""

    directory: Path
    transport: Literal["tcp", "ipc"] = "tcp"
    host: str = "127.0.0.1"
    publish_port: int = 0
    subscribe_port: int = 0
    max_message_bytes: int = 256 * 1024
    handshake_timeout_ms: int = 5000
    allow_non_loopback: bool = False
    zap_domain: str = "aico-bus"
    io_threads: int = 1  # libzmq I/O threads: handshakes and per-message CURVE crypto run there

    def validate(self) -> None:
        if self.transport == "tcp" and not self.allow_non_loopback and not is_loopback_host(self.host):
            raise BusConfigError(f"refusing to bind the bus beyond loopback ({self.host!r}); use 127.0.0.1 or ipc")
        if self.max_message_bytes < 1024:
            raise BusConfigError("max_message_bytes must be at least 1024")
        if self.handshake_timeout_ms < 100:
            raise BusConfigError("handshake_timeout_ms must be at least 100")
        if not 1 <= self.io_threads <= 16:
            raise BusConfigError("io_threads must be between 1 and 16")


@dataclass
class BrokerStats:
    """Counters since start; ``auth_failures`` is what the audit layer is told about."""

    auth_failures: int = 0
    forwarded: int = 0
    denied_publish: int = 0
    denied_subscribe: int = 0
    malformed: int = 0
    audit_errors: int = 0
    reasons: dict[str, int] = field(default_factory=dict)


class Broker:
    """One running bus. ``Broker.start(config)``; always ``stop()`` (it is also a context manager)."""

    def __init__(self, config: BrokerConfig, audit: AuditSink | None = None) -> None:
        config.validate()
        self.config = config
        self.directory = config.directory
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.server_keys = self._load_server_keys()
        self.allowlist = Allowlist(self.directory / FILE_NAME)
        self.stats = BrokerStats()
        self._audit = audit or NullAuditSink()
        self._context: zmq.Context[zmq.Socket[bytes]] = zmq.Context(io_threads=config.io_threads)
        self._auth = self._make_authenticator()
        self._commands: queue.Queue[tuple[str, threading.Event, list[BaseException]]] = queue.Queue()
        self._stopping = threading.Event()
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None
        self.failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="aico-bus-broker", daemon=True)
        self._sockets: dict[str, zmq.Socket[bytes]] = {}
        self._monitors: dict[zmq.Socket[bytes], str] = {}
        self._bound: dict[str, str] = {}
        self._handlers: dict[zmq.Socket[bytes], Callable[[zmq.Socket[bytes]], None]] = {}
        self._poller = zmq.Poller()

    def _load_server_keys(self) -> keys.CurveKeyPair:
        """The broker's own key pair: made on first start, then read back (secret file mode 0600)."""
        return keys.load_or_create(self.directory, "broker")

    def _make_authenticator(self) -> AllowlistAuthenticator:
        return AllowlistAuthenticator(self._context, self.allowlist, self.config.zap_domain)

    def __repr__(self) -> str:
        return f"Broker(publish={self._bound.get('publish')!r}, subscribe={self._bound.get('subscribe')!r})"

    # ---- lifecycle --------------------------------------------------------------------------------------------
    @classmethod
    def start(cls, config: BrokerConfig, audit: AuditSink | None = None) -> Broker:
        broker = cls(config, audit)
        broker._auth.start()
        broker._thread.start()
        if not broker._ready.wait(10.0) or broker._startup_error is not None:
            error = broker._startup_error
            broker.stop()
            if isinstance(error, BusError):
                raise error
            raise BusError(f"bus broker failed to start: {type(error).__name__ if error else 'timeout'}")
        return broker

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(5.0)
        try:
            self._auth.stop()
        finally:
            self._context.destroy(linger=0)

    def __enter__(self) -> Broker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- what the broker is -----------------------------------------------------------------------------------
    @property
    def publish_endpoint(self) -> str:
        """Where component PUB sockets connect."""
        return connect_form(self._bound["publish"])

    @property
    def subscribe_endpoint(self) -> str:
        """Where component SUB sockets connect."""
        return connect_form(self._bound["subscribe"])

    def is_alive(self) -> bool:
        return self._thread.is_alive() and self.failure is None

    def bound_endpoints(self) -> list[str]:
        """Every endpoint a broker socket is bound to, as libzmq reports it (``LAST_ENDPOINT``)."""
        return list(self._bound.values())

    # ---- enrollment and rotation ------------------------------------------------------------------------------
    def enroll(self, component: str, *, publish: Collection[str] = (),
               subscribe: Collection[str] = ()) -> tuple[Enrollment, keys.CurveKeyPair]:
        """A fresh key pair for ``component`` (secret written 0600 under ``components/``) and its grants."""
        validate_component(component)
        pair = keys.generate()
        entry = self.allowlist.enroll(component, pair.public, publish, subscribe)
        keys.write_keypair(pair, self.directory / "components", component)
        return entry, pair

    def rotate(self, component: str) -> tuple[Enrollment, keys.CurveKeyPair]:
        """Admit a new key for ``component`` and revoke the old one; sessions of the old key end."""
        pair = keys.generate()
        entry = self.allowlist.replace_key(component, pair.public)
        keys.write_keypair(pair, self.directory / "components", component)
        self._command("cut")
        return entry, pair

    def revoke(self, component: str) -> None:
        self.allowlist.revoke(component)
        (self.directory / "components" / f"{component}.key_secret").unlink(missing_ok=True)
        self._command("cut")

    def _command(self, name: str) -> None:
        done, errors = threading.Event(), []  # type: tuple[threading.Event, list[BaseException]]
        self._commands.put((name, done, errors))
        if not done.wait(_REBIND_SECONDS + 5.0):
            raise BusError(f"broker did not complete {name!r}")
        if errors:
            raise BusError(f"broker could not complete {name!r}: {type(errors[0]).__name__}")

    # ---- the broker thread ------------------------------------------------------------------------------------
    def _run(self) -> None:
        try:
            self._open_sockets()
        except BaseException as exc:  # noqa: BLE001 - handed to start(), which raises it typed
            self._startup_error = exc
            self._ready.set()
            self._close_sockets()
            return
        self._ready.set()
        try:
            while not self._stopping.is_set():
                self._run_commands()
                for sock, _event in self._poller.poll(_POLL_MS):
                    handler = self._handlers.get(sock)
                    if handler is not None:
                        handler(sock)
        except Exception as exc:  # noqa: BLE001 - recorded; the bus is then down and says so in is_alive()
            self.failure = exc
            _LOG.error("bus broker loop stopped on an unexpected %s", type(exc).__name__)
        finally:
            self._close_sockets()

    def _run_commands(self) -> None:
        while True:
            try:
                name, done, errors = self._commands.get_nowait()
            except queue.Empty:
                return
            try:
                if name == "cut":
                    self._close_sockets()
                    self._open_sockets()
            except Exception as exc:  # noqa: BLE001 - reported to the caller of rotate()/revoke()
                errors.append(exc)
            finally:
                done.set()

    def _bind_address(self, role: str) -> str:
        if role in self._bound:  # re-creating after a cut: the same concrete endpoint
            return self._bound[role]
        if self.config.transport == "ipc":
            return f"ipc://{self.directory / f'bus-{role}.sock'}"
        port = self.config.publish_port if role == "publish" else self.config.subscribe_port
        host = f"[{self.config.host}]" if ":" in self.config.host else self.config.host
        return f"tcp://{host}:{port or '*'}"

    def _secure(self, sock: zmq.Socket[bytes]) -> None:
        """CURVE server with ZAP: the only mechanism the bus speaks."""
        sock.curve_server = True
        sock.curve_secretkey = self.server_keys.secret.reveal()
        sock.curve_publickey = self.server_keys.public
        sock.zap_domain = self.config.zap_domain.encode("ascii")

    def _limit(self, sock: zmq.Socket[bytes]) -> None:
        """Bounds set before bind (a listener copies its options then): frame size and handshake time."""
        sock.setsockopt(zmq.MAXMSGSIZE, self.config.max_message_bytes)
        sock.setsockopt(zmq.HANDSHAKE_IVL, self.config.handshake_timeout_ms)

    def _new_socket(self, kind: int, role: str) -> zmq.Socket[bytes]:
        sock = self._context.socket(kind)
        sock.linger = 0
        self._limit(sock)
        self._secure(sock)
        if kind == zmq.XPUB:
            sock.setsockopt(zmq.XPUB_MANUAL, 1)
        address = self._bind_address(role)
        deadline = time.monotonic() + _REBIND_SECONDS
        while True:
            try:
                sock.bind(address)
                break
            except zmq.ZMQError as exc:
                if exc.errno != zmq.EADDRINUSE or time.monotonic() > deadline:
                    sock.close(0)
                    raise BusConfigError(f"cannot bind bus {role} socket to {address}: {exc.strerror}") from None
                time.sleep(0.02)
        self._bound[role] = sock.getsockopt_string(zmq.LAST_ENDPOINT)
        monitor = sock.get_monitor_socket(
            zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL
            | zmq.EVENT_HANDSHAKE_FAILED_AUTH
        )
        self._monitors[monitor] = self._bound[role]
        self._sockets[role] = sock
        return sock

    def _open_sockets(self) -> None:
        frontend = self._new_socket(zmq.XSUB, "publish")
        frontend.send(b"\x01")  # take every message publishers send; permissions are checked per message below
        backend = self._new_socket(zmq.XPUB, "subscribe")
        self._handlers = {frontend: self._on_publish, backend: self._on_subscription}
        self._handlers.update({m: self._on_monitor for m in self._monitors})
        self._poller = zmq.Poller()
        for sock in self._handlers:
            self._poller.register(sock, zmq.POLLIN)

    def _close_sockets(self) -> None:
        for sock in self._sockets.values():
            try:
                sock.disable_monitor()
            except zmq.ZMQError:
                pass
            sock.close(0)
        for monitor in self._monitors:
            monitor.close(0)
        self._sockets, self._monitors, self._handlers = {}, {}, {}

    # ---- per-message checks -----------------------------------------------------------------------------------
    def _sender(self, frame: zmq.Frame) -> tuple[str, Enrollment | None]:
        try:
            user_id = str(frame.get("User-Id"))
        except zmq.ZMQError:
            return "unknown#0", None
        return user_id, self.allowlist.by_user_id(user_id)

    def _on_publish(self, frontend: zmq.Socket[bytes]) -> None:
        backend = self._sockets["subscribe"]
        for _ in range(_DRAIN):
            try:
                first = frontend.recv(zmq.NOBLOCK, copy=False)
            except zmq.Again:
                return
            frames = [first]
            extra = first.more
            while extra:  # a multipart message arrives whole: keep two frames, never buffer the rest
                part = frontend.recv(copy=False)
                extra = part.more
                if len(frames) < 3:
                    frames.append(part)
            user_id, entry = self._sender(first)
            if entry is None:
                self.stats.denied_publish += 1
                self._emit("auth", "publish", user_id.partition("#")[0], "denied", "", {"reason": "revoked-or-unknown"})
                continue
            if len(frames) != 2:
                self._malformed(entry.component, "publish needs exactly two frames: topic, payload")
                continue
            try:
                topic = parse_topic(frames[0].bytes)
            except MalformedTopic as exc:
                self._malformed(entry.component, str(exc))
                continue
            if not self._may_publish(entry, topic):
                self.stats.denied_publish += 1
                self._emit("auth", "publish", entry.component, "denied", topic, {"reason": "topic-not-granted"})
                continue
            self._forward(backend, frames[0], frames[1])

    def _forward(self, backend: zmq.Socket[bytes], topic: zmq.Frame, payload: zmq.Frame) -> None:
        try:
            backend.send(topic, zmq.SNDMORE | zmq.NOBLOCK, copy=False)
            backend.send(payload, zmq.NOBLOCK, copy=False)
            self.stats.forwarded += 1
        except zmq.Again:
            pass  # XPUB drops for slow subscribers at their high-water mark; nothing to undo

    def _may_publish(self, entry: Enrollment, topic: str) -> bool:
        return may_publish(entry.publish, topic)

    def _may_subscribe(self, entry: Enrollment, prefix: bytes) -> bool:
        return may_subscribe(entry.subscribe, prefix)

    def _on_subscription(self, backend: zmq.Socket[bytes]) -> None:
        for _ in range(_DRAIN):
            try:
                frame = backend.recv(zmq.NOBLOCK, copy=False)
            except zmq.Again:
                return
            while frame.more:  # subscribers do not send data; drain and ignore
                frame = backend.recv(copy=False)
            data = frame.bytes
            if data[:1] == b"\x00":
                # Dropping a subscription never widens access. In XPUB_MANUAL mode libzmq also hands us these
                # (without a User-Id) when a subscriber disconnects, so they are applied without an identity.
                backend.setsockopt(zmq.UNSUBSCRIBE, data[1:])
                continue
            user_id, entry = self._sender(frame)
            if entry is None:
                self.stats.denied_subscribe += 1
                actor = user_id.partition("#")[0]
                self._emit("auth", "subscribe", actor, "denied", "", {"reason": "revoked-or-unknown"})
                continue
            if data[:1] != b"\x01":
                self._malformed(entry.component, "not a subscription message")
                continue
            prefix = data[1:]
            if self._may_subscribe(entry, prefix):
                backend.setsockopt(zmq.SUBSCRIBE, prefix)  # XPUB_MANUAL: applies to this peer only
            else:
                self.stats.denied_subscribe += 1
                shown = prefix[:64].decode("ascii", "replace")
                self._emit("auth", "subscribe", entry.component, "denied", shown, {"reason": "topic-not-granted"})

    def _on_monitor(self, monitor: zmq.Socket[bytes]) -> None:
        endpoint = self._monitors.get(monitor, "")
        for _ in range(_DRAIN):
            try:
                event = recv_monitor_message(monitor, zmq.NOBLOCK)
            except zmq.Again:
                return
            kind = int(event["event"])
            if kind not in _FAILED_HANDSHAKE:
                continue
            value = int(event["value"])
            reason = _PROTOCOL_REASONS.get(value, _FAILED_HANDSHAKE[kind])
            self.stats.auth_failures += 1
            self.stats.reasons[reason] = self.stats.reasons.get(reason, 0) + 1
            self._emit("auth", "bus_handshake", "unauthenticated-peer", "failure", endpoint,
                       {"reason": reason, "code": value})

    def _malformed(self, component: str, why: str) -> None:
        self.stats.malformed += 1
        self._emit("system", "bus_malformed_message", component, "failure", "", {"reason": why})

    def _emit(self, category: Literal["auth", "system"], action: str, actor: str,
              result: Literal["failure", "denied"], subject: str, details: dict[str, str | int]) -> None:
        try:
            self._audit.record(AuditEvent(category=category, action=action, actor=actor, result=result,
                                          subject=subject, details=details))
        except Exception:  # noqa: BLE001 - a failing sink must not stop the bus; it is counted instead
            self.stats.audit_errors += 1
