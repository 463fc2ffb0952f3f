"""The sync server handles one connection at a time and never times out a handshake."""

from __future__ import annotations

from aico_secure.reference.tls import ReferenceTls
from aico_secure.target import Target
from aico_secure.transport.sync import SyncDevice, SyncServer

from ._base import reference_with

BREAKS = ("AICO-TLS-006",)


class SerialServer(SyncServer):
    def _accept_loop(self) -> None:
        self._handshake_timeout = None  # type: ignore[assignment]
        while not self._stop.is_set():
            try:
                conn, peer = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._slots.acquire()
            with self._lock:
                self._open.add(conn)
            self._serve(conn, f"{peer[0]}:{peer[1]}")


class SerialDevice(SyncDevice):
    server_class = SerialServer


class Serial(ReferenceTls):
    device_class = SerialDevice


def build() -> Target:
    return reference_with("serial sync server without handshake timeout", tls=Serial())

