"""The adapter: the only part of this build written for the conformance suite.

It maps the team's vault and store onto the target contract (``aico_secure.target``) and does nothing else:
translates their exceptions into the contract's refusals, names their SQLite store ``"libsql"`` (the records
store of the architecture, whatever engine is behind it), and exposes the test hooks the suite asks for from
what the team's code already keeps (key ids in envelopes, KEK generations, the salt).
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Literal

from aico_secure.audit.events import AuditEvent, AuditSink
from aico_secure.target import IntegrityViolation, KdfReport, RejectedCredentials, Target

from .keys import VAULT_FILE, Vault, VaultError, VaultSession, WrongPassword
from .store import PURPOSE, RecordsDb, StoreError, recover


@contextlib.contextmanager
def translated() -> Iterator[None]:
    """The team's errors as the contract's: a wrong password is a rejected credential, everything else the
    vault or the store refuses is bytes that do not authenticate. ``ValueError`` (an empty password) passes."""
    try:
        yield
    except WrongPassword as exc:
        raise RejectedCredentials(str(exc)) from None
    except (VaultError, StoreError) as exc:
        raise IntegrityViolation(str(exc)) from None


class Session:
    """``KeySession`` (with ``SealingKeyObservable`` and ``WrappingKeyObservable``) over a ``VaultSession``."""

    def __init__(self, vault_session: VaultSession) -> None:
        self.vault_session = vault_session

    def __repr__(self) -> str:
        return f"Session({self.vault_session!r})"

    def derive(self, purpose: str) -> bytes:
        with translated():
            return self.vault_session.purpose_key(purpose)

    def seal(self, purpose: str, record_key: bytes, plaintext: bytes) -> bytes:
        with translated():
            return self.vault_session.seal(purpose, record_key, plaintext)

    def open(self, purpose: str, record_key: bytes, sealed: bytes) -> bytes:
        with translated():
            return self.vault_session.open(purpose, record_key, sealed)

    def data_key_ids(self, purpose: str) -> list[str]:
        with translated():
            return [key_id for key_id, _key in self.vault_session.data_keys(purpose)]

    def rotate_data_key(self, purpose: str) -> None:
        with translated():
            self.vault_session.rotate_data_key(purpose)

    def rotate_kek(self, purpose: str) -> None:
        with translated():
            self.vault_session.rotate_kek(purpose)

    def rotate_master(self, password: str) -> None:
        with translated():
            self.vault_session.rotate_master(password)

    def change_password(self, old_password: str, new_password: str) -> None:
        with translated():
            self.vault_session.change_password(old_password, new_password)

    def secret_material(self) -> Mapping[str, bytes]:
        with translated():
            return self.vault_session.secret_material()

    def sealing_key_id(self, purpose: str, sealed: bytes) -> str:
        with translated():
            return VaultSession.key_id_of(sealed)

    def wrapping_key_id(self, purpose: str) -> str:
        with translated():
            return self.vault_session.wrapping_key_fingerprint(purpose)

    def close(self) -> None:
        self.vault_session.close()


class Keys:
    """``KeysCapability`` over one ``Vault`` (so one session cache) per build instance."""

    def __init__(self) -> None:
        self.vault = Vault()

    def __repr__(self) -> str:
        return "Keys(sqlite build vault)"

    def create(self, directory: Path, password: str, *, fast_kdf: bool) -> Session:
        with translated():
            return Session(self.vault.create(directory, password, test_profile=fast_kdf))

    def unlock(self, directory: Path, password: str) -> Session:
        with translated():
            return Session(self.vault.unlock(directory, password))

    def describe_kdf(self, directory: Path) -> KdfReport:
        with translated():
            params, salt, test_only = Vault.kdf_of(directory)
        return KdfReport("argon2id", params.time_cost, params.memory_kib, params.parallelism, len(salt), test_only,
                         salt_id=hashlib.sha256(salt).hexdigest()[:16])

    def keyring_files(self, directory: Path) -> list[Path]:
        return [Path(directory) / VAULT_FILE]


def _vault_session(session: object) -> VaultSession:
    if not isinstance(session, Session):
        raise IntegrityViolation("this store opens only with a session of this build's vault")
    return session.vault_session


class OpenRecords:
    """``RecordStore`` (with ``SealingKeyHook``) over an open ``RecordsDb``; reports to the audit sink if given."""

    def __init__(self, db: RecordsDb, audit: AuditSink | None) -> None:
        self.db = db
        self.audit = audit

    def __repr__(self) -> str:
        return f"OpenRecords({self.db!r})"

    def _report(self, category: Literal["data_access", "crypto"], action: str) -> None:
        if self.audit is not None:
            self.audit.record(AuditEvent(category, action, actor="sqlite-build/records", subject=PURPOSE))

    def put(self, key: str, value: bytes) -> None:
        with translated():
            self.db.put(key, value)
        self._report("data_access", "write")

    def get(self, key: str) -> bytes | None:
        with translated():
            value = self.db.get(key)
        self._report("data_access", "read")
        return value

    def delete(self, key: str) -> None:
        with translated():
            self.db.delete(key)
        self._report("data_access", "delete")

    def keys(self) -> list[str]:
        with translated():
            return self.db.names()

    def compact(self) -> None:
        with translated():
            self.db.compact()

    def rotate_data_key(self) -> None:
        with translated():
            self.db.rotate_data_key()
        self._report("crypto", "rotate_dek")

    def sealing_key_id(self, key: str) -> str | None:
        with translated():
            return self.db.sealing_key_id(key)

    def close(self) -> None:
        self.db.close()


class RecordsStore:
    """``StoreCapability`` of the plain-SQLite records store, registered as the architecture's ``libsql``."""

    name = PURPOSE
    kind: Literal["records", "vectors"] = "records"

    def __repr__(self) -> str:
        return "RecordsStore(libsql: stdlib SQLite, sealed rows)"

    def open(self, session: object, directory: Path, *, audit: AuditSink | None = None) -> OpenRecords:
        with translated():
            return OpenRecords(RecordsDb.open(_vault_session(session), Path(directory)), audit)

    def forensic_image(self, session: object, directory: Path) -> Mapping[str, bytes]:
        with translated():
            return recover(_vault_session(session), Path(directory))


def build() -> Target:
    return Target(name="sqlite build (outside example)", version="0.1.0", keys=Keys(),
                  stores={PURPOSE: RecordsStore()})


__all__ = ["Keys", "RecordsStore", "Session", "build"]
