"""Which security mechanism a ZeroMQ listener speaks, read from the greeting it sends before any authentication.

Why this is a wire check: in ZMTP 3.x every connection opens with a 64-byte greeting naming the mechanism, and
the mechanism alone decides whether the bytes that follow are encrypted. CURVE encrypts every frame; NULL and
PLAIN send every frame in the clear (PLAIN even sends its password in the clear). A listener that greets with
NULL or PLAIN therefore carries readable traffic to whichever peer it admits, even when a ZAP rule keeps the
suite's own probes out, and the suite can see that without being admitted and without capture privileges.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

GREETING_BYTES = 64
# The start of a ZMTP 3 greeting: signature and major version. A peer sends the rest of its own greeting (with its
# mechanism) as soon as it has read these 11 bytes; sending no mechanism of ours means there is no mismatch for
# the listener to reset the connection on before its greeting has been read.
CLIENT_GREETING_START = b"\xff" + b"\x00" * 8 + b"\x7f" + b"\x03"


@dataclass(frozen=True)
class Greeting:
    """What a listener said: ``mechanism`` is None when it sent no valid ZMTP 3 greeting (``error`` says why)."""

    endpoint: str
    mechanism: str | None
    version: tuple[int, int] | None = None
    error: str = ""

    @property
    def encrypted(self) -> bool:
        return self.mechanism == "CURVE"

    def __str__(self) -> str:
        if self.mechanism is None:
            return f"no ZMTP greeting ({self.error})"
        return f"ZMTP {self.version[0]}.{self.version[1]} {self.mechanism}" if self.version else self.mechanism


def _connect(endpoint: str, timeout: float) -> socket.socket:
    parts = urlsplit(endpoint)
    if parts.scheme == "tcp":
        host, _sep, port = parts.netloc.rpartition(":")
        return socket.create_connection((host.strip("[]"), int(port)), timeout=timeout)
    if parts.scheme == "ipc":
        path = endpoint[len("ipc://"):]
        address = "\0" + path[1:] if path.startswith("@") else path  # ZeroMQ's spelling of an abstract name
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.settimeout(timeout)
        try:
            conn.connect(address)
        except OSError:
            conn.close()
            raise
        return conn
    raise ValueError(f"not a tcp:// or ipc:// endpoint: {endpoint}")


def parse_greeting(endpoint: str, data: bytes) -> Greeting:
    """Judge the first bytes a listener sent; anything that is not a ZMTP 3 greeting has no mechanism."""
    if len(data) < GREETING_BYTES:
        return Greeting(endpoint, None, error=f"{len(data)} of {GREETING_BYTES} greeting bytes")
    if data[0] != 0xFF or data[9] & 0x01 != 0x01:
        return Greeting(endpoint, None, error="not a ZMTP signature")
    version = (data[10], data[11])
    if version[0] < 3:
        return Greeting(endpoint, None, version, error=f"ZMTP {version[0]}.{version[1]} has no mechanism field")
    raw = data[12:32].rstrip(b"\x00")
    if not raw or not raw.isascii() or not raw.isalnum():
        return Greeting(endpoint, None, version, error="unreadable mechanism name")
    return Greeting(endpoint, raw.decode("ascii"), version)


def read_greeting(endpoint: str, *, timeout: float = 3.0) -> Greeting:
    """Connect to a ``tcp://`` or ``ipc://`` listener, send the start of a greeting and read the listener's.

    The connection is closed right after (the broker counts it as a failed handshake, as it should). Stops after
    ``timeout`` seconds in total; a listener that does not answer in time has no mechanism ("no ZMTP greeting").
    """
    try:
        conn = _connect(endpoint, timeout)
    except (OSError, ValueError) as exc:
        return Greeting(endpoint, None, error=f"connect: {type(exc).__name__}")
    data = b""
    deadline = time.monotonic() + timeout
    with conn:
        try:
            conn.sendall(CLIENT_GREETING_START)
            while len(data) < GREETING_BYTES and time.monotonic() < deadline:
                conn.settimeout(max(0.01, deadline - time.monotonic()))
                chunk = conn.recv(GREETING_BYTES - len(data))
                if not chunk:
                    break
                data += chunk
        except OSError:
            pass
    return parse_greeting(endpoint, data)
