"""The reference build's key-management capability: a thin adapter from ``aico_secure.keys`` to the contract."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from aico_secure import envelope
from aico_secure.envelope import RecordContext
from aico_secure.errors import (
    AicoSecureError,
    KdfProfileError,
    KeyringCorruptError,
    KeyringNotFoundError,
    KeyringVersionError,
    WrongPasswordError,
)
from aico_secure.keys import Keyring, UnlockedKeyring
from aico_secure.keys import keyring_file as kf
from aico_secure.keys.errors import KeyringIOError
from aico_secure.keys.keyring import _kek
from aico_secure.target.errors import IntegrityViolation, RejectedCredentials
from aico_secure.target.keys import KdfReport

SEAL_STORE = "application"
_KEK_FINGERPRINT_LABEL = b"aico-secure/test-hook/kek-fingerprint/v1"


@contextmanager
def _refusals() -> Iterator[None]:
    """A change the keyring refuses (wrong password; keyring missing, damaged, changed by another process or
    busy) surfaces as the contract's refusal, so a caller can tell it from a bug."""
    try:
        yield
    except WrongPasswordError as exc:
        raise RejectedCredentials(str(exc)) from None
    except AicoSecureError as exc:
        raise IntegrityViolation(str(exc)) from None


class ReferenceKeySession:
    """Contract view of an ``UnlockedKeyring``. Stores of the reference build reach the keyring through
    ``.keyring``."""

    def __init__(self, keyring: UnlockedKeyring) -> None:
        self.keyring = keyring

    def __repr__(self) -> str:
        return f"ReferenceKeySession({self.keyring!r})"

    def derive(self, purpose: str) -> bytes:
        return self.keyring.derive(purpose).reveal()

    def _context(self, purpose: str, record_key: bytes) -> RecordContext:
        return RecordContext(store=SEAL_STORE, collection=purpose, record_key=record_key)

    def seal(self, purpose: str, record_key: bytes, plaintext: bytes) -> bytes:
        return envelope.seal(self.keyring.active_data_key(purpose), plaintext, self._context(purpose, record_key))

    def open(self, purpose: str, record_key: bytes, sealed: bytes) -> bytes:
        try:
            return envelope.open_with(
                lambda kid: self.keyring.data_key(purpose, kid), sealed, self._context(purpose, record_key)
            )
        except AicoSecureError as exc:
            raise IntegrityViolation(str(exc)) from None

    def data_key_ids(self, purpose: str) -> list[str]:
        self.keyring.active_data_key(purpose)
        entries = self.keyring.key_ids(purpose)
        return entries

    def sealing_key_id(self, purpose: str, sealed: bytes) -> str:
        """Test hook: the key id the envelope's header names (the one ``open`` will use)."""
        try:
            return envelope.key_id_of(sealed).hex()
        except AicoSecureError as exc:
            raise IntegrityViolation(str(exc)) from None

    def wrapping_key_id(self, purpose: str) -> str:
        """Test hook: HMAC of a fixed label under the KEK the keyring document names for ``purpose`` now (the one
        unlock unwraps with); 8 bytes of it, which say nothing about the key."""
        self.keyring.active_data_key(purpose)
        version = int(self.keyring._doc["keks"][purpose])
        kek = _kek(self.keyring._master, purpose, version)
        return hmac.new(kek.secret.reveal(), _KEK_FINGERPRINT_LABEL, hashlib.sha256).digest()[:8].hex()

    def rotate_data_key(self, purpose: str) -> None:
        with _refusals():
            self.keyring.rotate_dek(purpose)

    def rotate_kek(self, purpose: str) -> None:
        with _refusals():
            self.keyring.rotate_kek(purpose)

    def rotate_master(self, password: str) -> None:
        with _refusals():
            self.keyring.rotate_master(password)

    def change_password(self, old_password: str, new_password: str) -> None:
        with _refusals():
            self.keyring.change_password(old_password, new_password)

    def secret_material(self) -> Mapping[str, bytes]:
        material = {"master": self.keyring._master.reveal()}
        for purpose in self.keyring.purposes():
            for key in self.keyring.data_keys(purpose):
                material[f"dek:{purpose}:{key.key_id.hex()}"] = key.secret.reveal()
            version = int(self.keyring._doc["keks"][purpose])  # the KEK wrapping them now: a key it holds too
            material[f"kek:{purpose}:v{version}"] = _kek(self.keyring._master, purpose, version).secret.reveal()
        return material

    def close(self) -> None:
        """Nothing to flush: every change was written atomically when it was made."""


class ReferenceKeys:
    """Keyrings live in ``<directory>/keyring.json``."""

    def create(self, directory: Path, password: str, *, fast_kdf: bool) -> ReferenceKeySession:
        keyring = Keyring.create(Keyring.path_in(directory), password, profile="test" if fast_kdf else "production")
        return ReferenceKeySession(keyring)

    def unlock(self, directory: Path, password: str) -> ReferenceKeySession:
        try:
            return ReferenceKeySession(Keyring.unlock(Keyring.path_in(directory), password))
        except WrongPasswordError as exc:
            raise RejectedCredentials(str(exc)) from None
        except (KeyringCorruptError, KeyringVersionError, KeyringNotFoundError, KdfProfileError,
                KeyringIOError) as exc:  # IOError: not a regular file (a FIFO, a device) or unreadable
            raise IntegrityViolation(str(exc)) from None

    def describe_kdf(self, directory: Path) -> KdfReport:
        try:
            info = Keyring.describe(Keyring.path_in(directory))
            salt = kf.b64d(kf.read_document(Keyring.path_in(directory))["kdf"]["salt"], "kdf.salt")
        except AicoSecureError as exc:
            raise IntegrityViolation(str(exc)) from None
        return KdfReport(info.algorithm, info.time_cost, info.memory_kib, info.parallelism, info.salt_bytes,
                         info.test_only, salt_id=hashlib.sha256(salt).hexdigest()[:16])

    def keyring_files(self, directory: Path) -> list[Path]:
        return [Keyring.path_in(directory)]
