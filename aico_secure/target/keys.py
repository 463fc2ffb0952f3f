"""The key-management capability of a build, as the conformance suite sees it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class KdfReport:
    """What a keyring on disk declares about its password KDF (read without the password)."""

    algorithm: str  # e.g. "argon2id"
    time_cost: int
    memory_kib: int
    parallelism: int
    salt_bytes: int
    test_only: bool  # made with a fast profile meant for test suites
    # Optional: a non-secret fingerprint of the salt now in use (e.g. the first bytes of its SHA-256, hex), so the
    # suite can see a master rotation or password change really draw a new salt. ``None``: not declared.
    salt_id: str | None = None


@runtime_checkable
class KeySession(Protocol):
    """An unlocked keyring. Stores are opened with it; closing it forgets the keys."""

    def derive(self, purpose: str) -> bytes:
        """The per-purpose key for ``purpose`` (e.g. "libsql", "audit"), derived from the master key."""

    def seal(self, purpose: str, record_key: bytes, plaintext: bytes) -> bytes:
        """Application-level authenticated encryption of one record with ``purpose``'s active data key."""

    def open(self, purpose: str, record_key: bytes, sealed: bytes) -> bytes:
        """Inverse of ``seal``; raises ``IntegrityViolation`` for anything that does not authenticate."""

    def data_key_ids(self, purpose: str) -> list[str]:
        """Ids of ``purpose``'s data keys, the active one last."""

    def rotate_data_key(self, purpose: str) -> None:
        """New writes use a new data key; data written before stays readable."""

    def rotate_kek(self, purpose: str) -> None:
        """Re-wrap ``purpose``'s data keys under a new key-encryption key."""

    def rotate_master(self, password: str) -> None:
        """New master key for the same password; data keys re-wrapped, no data re-encrypted."""

    def change_password(self, old_password: str, new_password: str) -> None:
        """After this only ``new_password`` unlocks the keyring."""

    def secret_material(self) -> Mapping[str, bytes]:
        """Test hook: every key this session holds (master key, data keys), named. The suite searches disk,
        logs and reprs for these; it never writes them anywhere."""

    def close(self) -> None: ...


@runtime_checkable
class SealingKeyObservable(Protocol):
    """Optional test hook of a ``KeySession``: which data key sealed a blob. A session that has it lets the suite
    check that new writes use the newest data key after every rotation; without it those checks are not run."""

    def sealing_key_id(self, purpose: str, sealed: bytes) -> str:
        """The id (as in ``data_key_ids(purpose)``) of the data key that sealed ``sealed``, read from the blob
        itself (never from a cache of what was sealed); ``IntegrityViolation`` if the blob names no key."""


@runtime_checkable
class WrappingKeyObservable(Protocol):
    """Optional test hook of a ``KeySession``: which key-encryption key wraps a purpose's data keys now."""

    def wrapping_key_id(self, purpose: str) -> str:
        """A non-secret fingerprint of the key-encryption key that wraps ``purpose``'s data keys as the keyring
        stores them now: it changes exactly when that key changes (``rotate_kek(purpose)``, ``rotate_master``,
        ``change_password``). It must not reveal the key (e.g. an HMAC under the key of a fixed label)."""


@runtime_checkable
class KeysCapability(Protocol):
    def create(self, directory: Path, password: str, *, fast_kdf: bool) -> KeySession:
        """Create a keyring in the empty ``directory``. ``fast_kdf`` asks for a cheap test KDF profile; a
        build may ignore it, but a keyring made with it must say so (``KdfReport.test_only``)."""

    def unlock(self, directory: Path, password: str) -> KeySession:
        """Raise ``RejectedCredentials`` for a wrong password, ``IntegrityViolation`` for a damaged keyring."""

    def describe_kdf(self, directory: Path) -> KdfReport: ...

    def keyring_files(self, directory: Path) -> list[Path]:
        """The files that make up the keyring (to check their permissions and to corrupt them in tests)."""
