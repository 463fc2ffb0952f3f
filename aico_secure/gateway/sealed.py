"""A small JSON document sealed at rest with the gateway's data key: how every piece of gateway state is stored.

Why whole-file sealing: the gateway's state (enrolled verifiers, revoked tokens, its instance id) is small, and
sealing the file as one envelope hides even the user names and the number of revocations, binds the content to
its file name (a file copied over another fails to open), and makes a torn or edited file an authentication
failure rather than silently different data. Writes are atomic (temp file, fsync, rename).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aico_secure import envelope
from aico_secure.envelope import RecordContext
from aico_secure.errors import AicoSecureError
from aico_secure.gateway.errors import GatewayStateError
from aico_secure.keys import UnlockedKeyring
from aico_secure.keys.atomic import atomic_write

PURPOSE = "gateway"


class SealedJson:
    """One sealed JSON object at ``path``; ``name`` goes into the associated data."""

    def __init__(self, keyring: UnlockedKeyring, path: Path, name: str) -> None:
        self._keyring = keyring
        self.path = path
        self._context = RecordContext(store="gateway", collection="state", record_key=name.encode())

    def __repr__(self) -> str:
        return f"SealedJson({self.path.name!r})"

    def exists(self) -> bool:
        return self.path.exists()

    def load(self) -> dict[str, Any]:
        """The stored object; ``GatewayStateError`` if it is missing, damaged, from elsewhere or not an object."""
        try:
            sealed = self.path.read_bytes()
        except OSError as exc:
            raise GatewayStateError(f"cannot read gateway state {self.path.name}: {exc.strerror}") from None
        try:
            plain = envelope.open_with(lambda kid: self._keyring.data_key(PURPOSE, kid), sealed, self._context)
        except AicoSecureError as exc:
            raise GatewayStateError(f"gateway state {self.path.name} does not authenticate: {exc}") from None
        try:
            document = json.loads(plain)
        except (ValueError, RecursionError):
            raise GatewayStateError(f"gateway state {self.path.name} is not valid JSON") from None
        if not isinstance(document, dict):
            raise GatewayStateError(f"gateway state {self.path.name} is not a JSON object")
        return document

    def save(self, document: dict[str, Any]) -> None:
        plain = json.dumps(document, separators=(",", ":"), sort_keys=True).encode()
        atomic_write(self.path, envelope.seal(self._keyring.active_data_key(PURPOSE), plain, self._context))
