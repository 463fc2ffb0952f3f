"""The broker's explicit allowlist: which component owns which CURVE public key, and what it may do.

Why a registry of its own: the ZAP handler (handshakes), the broker loop (every message) and rotation
(operator calls) all consult it from different threads, so it is the single, locked source of truth. Each key
change bumps the component's ``generation``; the ZAP handler stamps ``component#generation`` as the connection's
User-Id, so a message from a session authenticated with a revoked key no longer maps to a live enrollment and is
dropped even before the session is cut. Only public keys and grants are persisted (``allowlist.json``).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Collection
from dataclasses import asdict, dataclass
from pathlib import Path

from aico_secure.keys.atomic import atomic_write
from aico_secure.transport.bus.keys import is_z85_key
from aico_secure.transport.bus.topics import validate_grants
from aico_secure.transport.errors import BusConfigError, UnknownComponentError

_COMPONENT = re.compile(r"[a-z][a-z0-9_-]{0,63}")
FILE_NAME = "allowlist.json"


@dataclass(frozen=True)
class Enrollment:
    component: str
    public_key: str  # Z85 text
    generation: int
    publish: tuple[str, ...]
    subscribe: tuple[str, ...]
    revoked: bool = False

    @property
    def user_id(self) -> str:
        return f"{self.component}#{self.generation}"


def validate_component(name: str) -> str:
    if not isinstance(name, str) or not _COMPONENT.fullmatch(name):
        raise BusConfigError(f"component name {name!r} must match [a-z][a-z0-9_-]{{0,63}}")
    return name


class Allowlist:
    """Thread-safe map component -> enrollment, with reverse lookups by key and by User-Id."""

    def __init__(self, path: Path | None = None) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._by_component: dict[str, Enrollment] = {}
        if path is not None and path.exists():
            self._load(path)

    def _load(self, path: Path) -> None:
        try:
            raw = json.loads(path.read_text("utf-8"))
            entries = [Enrollment(**{**e, "publish": tuple(e["publish"]), "subscribe": tuple(e["subscribe"])})
                       for e in raw["components"]]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise BusConfigError(f"{path.name} is not a valid allowlist: {type(exc).__name__}") from None
        for entry in entries:
            validate_component(entry.component)
            if not is_z85_key(entry.public_key.encode("ascii")):
                raise BusConfigError(f"{path.name}: bad public key for {entry.component}")
            self._by_component[entry.component] = entry

    def _save(self) -> None:
        if self._path is None:
            return
        data = {"components": [asdict(e) for e in sorted(self._by_component.values(), key=lambda e: e.component)]}
        atomic_write(self._path, json.dumps(data, indent=1).encode("utf-8"), mode=0o600)

    def enroll(self, component: str, public_key: bytes, publish: Collection[str],
               subscribe: Collection[str]) -> Enrollment:
        validate_component(component)
        if not is_z85_key(public_key):
            raise BusConfigError("public key must be 40 characters of Z85")
        entry = Enrollment(component, public_key.decode("ascii"), 1, validate_grants(publish),
                           validate_grants(subscribe))
        with self._lock:
            current = self._by_component.get(component)
            if current is not None and not current.revoked:
                raise BusConfigError(f"component {component!r} is already enrolled; rotate its key instead")
            if current is not None:
                entry = Enrollment(component, entry.public_key, current.generation + 1, entry.publish, entry.subscribe)
            self._check_key_unused(entry.public_key)
            self._by_component[component] = entry
            self._save()
        return entry

    def _check_key_unused(self, public_key: str) -> None:
        if any(e.public_key == public_key and not e.revoked for e in self._by_component.values()):
            raise BusConfigError("that public key already belongs to an enrolled component")

    def replace_key(self, component: str, public_key: bytes) -> Enrollment:
        """Admit a new key for ``component`` and revoke its previous one in the same step."""
        if not is_z85_key(public_key):
            raise BusConfigError("public key must be 40 characters of Z85")
        with self._lock:
            current = self._get(component)
            self._check_key_unused(public_key.decode("ascii"))
            entry = Enrollment(component, public_key.decode("ascii"), current.generation + 1, current.publish,
                               current.subscribe)
            self._by_component[component] = entry
            self._save()
        return entry

    def revoke(self, component: str) -> Enrollment:
        with self._lock:
            current = self._get(component)
            entry = Enrollment(component, current.public_key, current.generation + 1, current.publish,
                               current.subscribe, revoked=True)
            self._by_component[component] = entry
            self._save()
        return entry

    def _get(self, component: str) -> Enrollment:
        entry = self._by_component.get(component)
        if entry is None:
            raise UnknownComponentError(f"component {component!r} is not enrolled")
        return entry

    def by_key(self, public_key_z85: bytes) -> Enrollment | None:
        """The live enrollment that owns this key, or None (unknown or revoked)."""
        text = public_key_z85.decode("ascii", "replace")
        with self._lock:
            for entry in self._by_component.values():
                if entry.public_key == text and not entry.revoked:
                    return entry
        return None

    def by_user_id(self, user_id: str) -> Enrollment | None:
        """The live enrollment a session's User-Id names, or None if that key was rotated out or revoked."""
        component, _, generation = user_id.partition("#")
        with self._lock:
            entry = self._by_component.get(component)
        if entry is None or entry.revoked or str(entry.generation) != generation:
            return None
        return entry

    def components(self) -> list[Enrollment]:
        with self._lock:
            return sorted(self._by_component.values(), key=lambda e: e.component)
