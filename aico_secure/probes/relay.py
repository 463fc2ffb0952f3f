"""A loopback TCP relay the suite controls: everything that crosses it is written to files for inspection.

Why a relay and not a packet capture: it needs no privileges, works in any container, and puts the exact bytes
of each direction of each connection in its own file, where ``aico_secure.inspector`` can search them in every
encoding it knows.
"""

from __future__ import annotations

import selectors
import socket
import threading
from pathlib import Path
from types import TracebackType

_CHUNK = 65536


class CaptureRelay:
    """Listens on 127.0.0.1 (ephemeral port) and forwards each connection to ``upstream`` ((host, port), or a
    unix socket path), recording both ways.

    Files: ``<directory>/conn-<n>-up.bin`` (client to server) and ``conn-<n>-down.bin``. Use as a context
    manager or call ``close()``; every thread it starts is stopped there.
    """

    def __init__(self, upstream: tuple[str, int] | str, directory: Path, *, timeout: float = 5.0) -> None:
        self.upstream = upstream
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._timeout = timeout
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self.port: int = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._count = 0
        self.bytes_up = 0
        self.bytes_down = 0
        self._accept_thread = threading.Thread(target=self._accept, name="capture-relay", daemon=True)
        self._accept_thread.start()

    @property
    def endpoint(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _addr = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self._count += 1
                n = self._count
            thread = threading.Thread(target=self._pump, args=(client, n), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _pump(self, client: socket.socket, n: int) -> None:
        try:
            if isinstance(self.upstream, str):  # a unix socket path (ZeroMQ ipc://)
                server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                server.settimeout(self._timeout)
                server.connect(self.upstream)
            else:
                server = socket.create_connection(self.upstream, timeout=self._timeout)
        except OSError:
            client.close()
            return
        up = (self.directory / f"conn-{n}-up.bin").open("wb")
        down = (self.directory / f"conn-{n}-down.bin").open("wb")
        sel = selectors.DefaultSelector()
        sel.register(client, selectors.EVENT_READ, (server, up, "up"))
        sel.register(server, selectors.EVENT_READ, (client, down, "down"))
        try:
            while not self._stop.is_set():
                for key, _mask in sel.select(0.1):
                    source: socket.socket = key.fileobj  # type: ignore[assignment]
                    target, sink, direction = key.data
                    try:
                        data = source.recv(_CHUNK)
                    except OSError:
                        data = b""
                    if not data:
                        return
                    sink.write(data)
                    sink.flush()
                    if direction == "up":
                        self.bytes_up += len(data)
                    else:
                        self.bytes_down += len(data)
                    try:
                        target.sendall(data)
                    except OSError:
                        return
        finally:
            sel.close()
            up.close()
            down.close()
            client.close()
            server.close()

    def close(self) -> None:
        self._stop.set()
        self._listener.close()
        self._accept_thread.join(2.0)
        for thread in self._threads:
            thread.join(2.0)

    def __enter__(self) -> CaptureRelay:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
