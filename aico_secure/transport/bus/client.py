"""How a component joins the bus: a CURVE client socket that pins the broker's public key.

Kept tiny on purpose: a component needs its own key pair and the broker's public key, nothing else. The client
always authenticates the broker (``curve_serverkey``); there is no way to build an unauthenticated client here.
"""

from __future__ import annotations

import zmq

from aico_secure.transport.bus.keys import CurveKeyPair, is_z85_key
from aico_secure.transport.errors import BusConfigError

DEFAULT_TIMEOUT_MS = 2000


def curve_socket(context: zmq.Context[zmq.Socket[bytes]], kind: int, pair: CurveKeyPair, server_key: bytes,
                 *, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> zmq.Socket[bytes]:
    """A socket of ``kind`` (``zmq.PUB``/``zmq.SUB``) set up as a CURVE client; connect it yourself."""
    if not is_z85_key(server_key):
        raise BusConfigError("the broker's public key must be 40 characters of Z85")
    sock = context.socket(kind)
    sock.linger = 0
    sock.rcvtimeo = timeout_ms
    sock.sndtimeo = timeout_ms
    sock.curve_publickey = pair.public
    sock.curve_secretkey = pair.secret.reveal()
    sock.curve_serverkey = server_key
    return sock
