"""The device hands ``load_cert_chain`` a copy of its private key in a temp file, and never removes it.

The declared key file (``tls/device.key``, 0600) is untouched; each server and client context loads the key
from a fresh ``mkstemp`` file under ``$TMPDIR`` instead ("the key file may be on a locked volume"). mkstemp makes
it 0600, but it is plaintext PEM outside the device directory, one more copy per connection, left behind for
any later process of the user, a backup of ``$TMPDIR`` or a temp cleaner's logs.
"""

from __future__ import annotations

import os
import ssl
import tempfile
from pathlib import Path

from aico_secure.reference.tls import ReferenceTls
from aico_secure.target import Target
from aico_secure.transport.sync import Peer, SyncDevice
from aico_secure.transport.tls.contexts import client_context_pem, server_context

from ._base import reference_with

BREAKS = ("AICO-TLS-002", "AICO-TLS-004")


class TempKeyDevice(SyncDevice):
    def _key_copy(self) -> Path:
        handle, name = tempfile.mkstemp(prefix="aico-sync-", suffix=".pem")
        with os.fdopen(handle, "wb") as out:
            out.write(self._key.read_bytes())
        return Path(name)

    def _server_context(self) -> ssl.SSLContext:
        return server_context(self._cert, self._key_copy(), client_ca_path=self._peer_ca)

    def _client_context(self, peer: Peer) -> ssl.SSLContext:
        return client_context_pem(peer.ca_pem, cert_path=self._cert, key_path=self._key_copy())


class TempKeyTls(ReferenceTls):
    device_class = TempKeyDevice


def build() -> Target:
    return reference_with("TLS key copied to a temp file that is never removed", tls=TempKeyTls())
