"""A gateway HTTPS server alone in a process, for measuring its memory without the test runner's own.

Run as ``python -m verification.gateway.memory_server DIR MAX_CONNECTIONS``: prints the port, serves until stdin
closes (so it never outlives the test that started it), then stops. The application answers 200 to anything; what is
measured is the connection layer in front of it.
"""

from __future__ import annotations

import sys
from pathlib import Path

from starlette.types import Receive, Scope, Send

from aico_secure.gateway import tls_identity
from aico_secure.gateway.config import ConnectionLimits
from aico_secure.gateway.server import GatewayServer
from aico_secure.keys import Keyring


async def _ok(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def main(directory: Path, max_connections: int) -> None:
    keyring = Keyring.create(Keyring.path_in(directory / "keys"), "pw-for-gateway-memory-test", profile="test")
    (directory / "gw").mkdir(mode=0o700)
    limits = ConnectionLimits(max_connections=max_connections, max_per_address=max_connections)
    server = GatewayServer(_ok, tls_identity.ssl_context(tls_identity.load_or_create(keyring, directory / "gw")),
                           limits=limits)
    server.start()
    try:
        print(server.port, flush=True)
        sys.stdin.read()
    finally:
        server.stop()


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]))
