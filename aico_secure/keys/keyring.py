"""The key hierarchy: password -> Argon2id master key -> HKDF key-encryption keys -> wrapped random data keys.

Why envelopes: the master key changes whenever the password changes or the master is rotated, but data
keys (DEKs) do not, so a rotation re-wraps a handful of 32-byte keys and never touches stored data. Its cost
is independent of how much data the keys protect.

Why a verifier and a MAC: a wrong password must fail fast and change nothing (the verifier is checked before
anything is unwrapped or written), and a keyring edited on disk must be refused rather than half-used (the
MAC, keyed from the master key, covers every field).

Why a lock and a re-read: two writers that each read the file, change their copy and rename it over the other
would silently lose one's work (a rotation, or a password change reverting to the old password). Every change
takes the keyring's inter-process lock (``keys/lock.py``), re-reads the file under it, and only then applies
itself: onto the newer file if this copy's master key still verifies it (another process rotated a data key or
advanced a counter), or not at all (``KeyringChangedError``) if it does not (another process changed the
password or the master key).

Why counters: a component that keeps its own file (the audit log, the revocation list) cannot tell on its own
that the file was replaced by an older copy of itself. It seals a monotonic counter into that file and anchors
the same counter here, under the keyring's MAC, with ``advance_counter``; a file whose sealed counter is below
the anchor was rolled back. Limit: someone who rolls back the keyring file together with the data (a whole
disk image, a backup restore of both) is not detectable locally; that needs an anchor outside the machine.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import os
import re
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aico_secure import envelope
from aico_secure.crypto.argon2id import MIN_SALT_BYTES
from aico_secure.crypto.hkdf import hkdf_sha256, hmac_sha256
from aico_secure.envelope import DataKey, RecordContext
from aico_secure.errors import (
    AicoSecureError,
    KeyringCorruptError,
    KeyringExistsError,
    KeyringNotFoundError,
    WrongPasswordError,
)
from aico_secure.keys import keyring_file as kf
from aico_secure.keys.atomic import atomic_create, atomic_write
from aico_secure.keys.display import shown
from aico_secure.keys.errors import CounterRollbackError, KeyringChangedError, KeyringIOError
from aico_secure.keys.labels import (
    KEYRING_MAC_LABEL,
    VERIFIER_LABEL,
    VERIFIER_MESSAGE,
    check_purpose,
    kek_label,
    purpose_label,
)
from aico_secure.keys.lock import keyring_lock
from aico_secure.keys.profiles import KdfParameters, parameters_for
from aico_secure.sensitive import SecretBytes

SALT_BYTES = 32
TEST_WARNING = "TEST KDF PROFILE: made for test suites only; never use for real data"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


_COUNTER_NAME = re.compile(kf.COUNTER_NAME_PATTERN.strip("^$"))


def check_counter_name(name: str) -> str:
    """Counter names are plain ASCII identifiers, so they print on one line and sort the same everywhere."""
    if not isinstance(name, str) or not _COUNTER_NAME.fullmatch(name):
        raise ValueError("a counter name is 1-128 lowercase letters, digits, '.', ':', '-' or '_', "
                         "starting with a letter")
    return name


def _password_bytes(password: str | bytes) -> bytes:
    if isinstance(password, str):
        try:
            password = password.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates; the exception text would quote the password
            raise ValueError("a password must be valid UTF-8 text") from None
    if not isinstance(password, bytes) or not password:
        raise ValueError("a password must be a non-empty string")
    return password


@dataclass(frozen=True)
class KdfDescription:
    """What a keyring says about its KDF; readable without the password."""

    algorithm: str
    profile: str
    time_cost: int
    memory_kib: int
    parallelism: int
    salt_bytes: int
    test_only: bool


def _kdf_from(document: dict[str, Any]) -> tuple[KdfParameters, bytes]:
    kdf = document["kdf"]
    params = KdfParameters(kdf["profile"], kdf["time_cost"], kdf["memory_kib"], kdf["parallelism"])
    params.validate()
    salt = kf.b64d(kdf["salt"], "kdf.salt")
    if len(salt) < MIN_SALT_BYTES:
        raise KeyringCorruptError(f"keyring salt is {len(salt)} bytes, below the minimum {MIN_SALT_BYTES}")
    if document["test_only"] != params.test_only:
        raise KeyringCorruptError("keyring test_only flag contradicts its KDF profile")
    return params, salt


def _verifier(master: SecretBytes) -> bytes:
    return hmac_sha256(hkdf_sha256(master.reveal(), info=VERIFIER_LABEL), VERIFIER_MESSAGE)


def _mac(master: SecretBytes, document: dict[str, Any]) -> bytes:
    return hmac_sha256(hkdf_sha256(master.reveal(), info=KEYRING_MAC_LABEL), kf.canonical_bytes(document))


def _kek(master: SecretBytes, purpose: str, version: int) -> DataKey:
    label = kek_label(purpose, version)
    secret = SecretBytes(hkdf_sha256(master.reveal(), info=label))
    return DataKey(key_id=hashlib.sha256(label).digest()[:8], secret=secret)


def _wrap_context(purpose: str, dek_id: bytes) -> RecordContext:
    return RecordContext(store="keyring", collection=purpose, record_key=dek_id)


class Keyring:
    """Entry points: create a keyring on disk, read its public description, or unlock it with a password."""

    @staticmethod
    def path_in(directory: Path) -> Path:
        return Path(directory) / kf.KEYRING_FILENAME

    @classmethod
    def create(
        cls,
        path: Path,
        password: str | bytes,
        *,
        profile: str = "production",
        purposes: Iterable[str] = (),
        parameters: KdfParameters | None = None,
    ) -> UnlockedKeyring:
        """Create a new keyring at ``path`` (refusing to overwrite, atomically even against a racing create)."""
        path = Path(path)
        if os.path.lexists(path):
            raise KeyringExistsError(f"refusing to overwrite existing keyring {shown(path)}")
        params = parameters or parameters_for(profile)
        params.validate()
        salt = os.urandom(SALT_BYTES)
        master = SecretBytes(params.derive(_password_bytes(password), salt))
        now = _now()
        document: dict[str, Any] = {
            "format": kf.FORMAT_NAME,
            "format_version": kf.BASE_VERSION,  # 2 only once a counter is anchored
            "created_at": now,
            "updated_at": now,
            "kdf": {
                "algorithm": "argon2id",
                "version": 19,
                "profile": params.profile,
                "time_cost": params.time_cost,
                "memory_kib": params.memory_kib,
                "parallelism": params.parallelism,
                "salt": kf.b64e(salt),
            },
            "test_only": params.test_only,
            "verifier": kf.b64e(_verifier(master)),
            "keks": {},
            "deks": {},
            "mac": "",
        }
        if params.test_only:
            document["warning"] = TEST_WARNING
        keyring = UnlockedKeyring(path, document, master, b"")
        for purpose in purposes:
            keyring._add_dek(purpose)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise KeyringIOError(f"cannot create the keyring directory {shown(path.parent)}: "
                                 f"{exc.strerror or exc}") from None
        with keyring_lock(path):
            keyring._save(create=True)
        return keyring

    @classmethod
    def describe(cls, path: Path) -> KdfDescription:
        document = kf.read_document(Path(path))
        params, salt = _kdf_from(document)
        return KdfDescription("argon2id", params.profile, params.time_cost, params.memory_kib, params.parallelism,
                              len(salt), params.test_only)

    @classmethod
    def unlock(cls, path: Path, password: str | bytes) -> UnlockedKeyring:
        """Open the keyring. A wrong password raises ``WrongPasswordError`` before anything else happens."""
        path = Path(path)
        raw = kf.read_raw(path)
        document = kf.parse_document(raw, path)
        params, salt = _kdf_from(document)
        if not password:
            raise WrongPasswordError(f"wrong password for keyring {shown(path)} (empty)")
        master = SecretBytes(params.derive(_password_bytes(password), salt))
        expected = kf.b64d(document["verifier"], "verifier")
        if not hmac.compare_digest(_verifier(master), expected):
            raise WrongPasswordError(f"wrong password for keyring {shown(path)}")
        if not hmac.compare_digest(_mac(master, document), kf.b64d(document["mac"], "mac")):
            raise KeyringCorruptError(f"keyring {shown(path)} fails its integrity check (edited or corrupted)")
        keyring = UnlockedKeyring(path, document, master, raw)
        keyring._deks = _unwrap_all(master, document)
        return keyring


class UnlockedKeyring:
    """A keyring in memory with its master key. Holds key material: its repr says nothing about it."""

    def __init__(self, path: Path, document: dict[str, Any], master: SecretBytes, raw: bytes) -> None:
        self._path = path
        self._doc = document
        self._master = master
        self._raw = raw  # the file's bytes as last read or written: how a change by someone else is noticed
        self._deks: dict[str, dict[bytes, DataKey]] = {}
        # Threads sharing this copy: a change and a re-read must not interleave on the in-memory state.
        self._state = threading.RLock()

    def __repr__(self) -> str:
        return f"UnlockedKeyring(path={str(self._path)!r}, purposes={sorted(self._doc['deks'])})"

    # ---- reading -------------------------------------------------------------------------------------------
    @property
    def path(self) -> Path:
        return self._path

    @property
    def test_only(self) -> bool:
        return bool(self._doc["test_only"])

    def purposes(self) -> list[str]:
        return sorted(self._doc["deks"])

    def derive(self, purpose: str, version: int = 1) -> SecretBytes:
        """A per-purpose key, HKDF-SHA256 from the master key. Changes when the master key changes."""
        return SecretBytes(hkdf_sha256(self._master.reveal(), info=purpose_label(purpose, version)))

    def active_data_key(self, purpose: str) -> DataKey:
        """The DEK new writes for ``purpose`` must use; created (and persisted) on first use."""
        check_purpose(purpose)
        if purpose not in self._doc["deks"]:
            with self._changing():
                if purpose not in self._doc["deks"]:  # another process may have added it meanwhile
                    self._add_dek(purpose)
                    self._save()
        entry = next(e for e in self._doc["deks"][purpose] if e["active"])
        return self._deks[purpose][bytes.fromhex(entry["id"])]

    def data_key(self, purpose: str, key_id: bytes) -> DataKey | None:
        """Any DEK of ``purpose``, active or retired, by id: what decryption of old records needs."""
        return self._deks.get(purpose, {}).get(bytes(key_id))

    def data_keys(self, purpose: str) -> list[DataKey]:
        return list(self._deks.get(purpose, {}).values())

    def key_ids(self, purpose: str) -> list[str]:
        return [e["id"] for e in self._doc["deks"].get(purpose, [])]

    # ---- rotation ------------------------------------------------------------------------------------------
    def rotate_dek(self, purpose: str) -> DataKey:
        """New writes use a fresh DEK; old DEKs stay (retired) so existing data remains readable."""
        with self._changing():
            self.active_data_key(purpose)
            for entry in self._doc["deks"][purpose]:
                entry["active"] = False
            key = self._add_dek(purpose)
            self._save()
            return key

    def retire_dek(self, purpose: str, key_id: bytes) -> None:
        """Forget a non-active DEK once nothing is encrypted under it any more (after re-encryption)."""
        with self._changing():
            entries = self._doc["deks"].get(purpose, [])
            entry = next((e for e in entries if e["id"] == key_id.hex()), None)
            if entry is None:
                raise KeyError(f"no data key {key_id.hex()} for {purpose}")
            if entry["active"]:
                raise ValueError("cannot drop the active data key; rotate first")
            entries.remove(entry)
            del self._deks[purpose][bytes(key_id)]
            self._save()

    def rotate_kek(self, purpose: str) -> None:
        """Move ``purpose``'s DEKs under a new key-encryption key version. Data is untouched."""
        with self._changing():
            self.active_data_key(purpose)
            self._doc["keks"][purpose] = self._doc["keks"][purpose] + 1
            self._rewrap(self._master, [purpose])
            self._save()

    def rotate_master(self, password: str | bytes) -> None:
        """New salt, so a new master key, for the same password; every DEK is re-wrapped, no data re-encrypted."""
        self._replace_master(password, password)

    def change_password(self, old_password: str | bytes, new_password: str | bytes) -> None:
        """New master key from the new password; afterwards only the new password opens the keyring."""
        self._replace_master(old_password, new_password)

    def _replace_master(self, current: str | bytes, new: str | bytes) -> None:
        with self._changing():
            params, salt = _kdf_from(self._doc)
            if not hmac.compare_digest(
                _verifier(SecretBytes(params.derive(_password_bytes(current), salt))), _verifier(self._master)
            ):
                raise WrongPasswordError(f"wrong current password for keyring {shown(self._path)}")
            new_salt = os.urandom(SALT_BYTES)
            new_master = SecretBytes(params.derive(_password_bytes(new), new_salt))
            self._doc["kdf"]["salt"] = kf.b64e(new_salt)
            self._doc["verifier"] = kf.b64e(_verifier(new_master))
            self._rewrap(new_master, list(self._doc["deks"]))
            self._master = new_master
            self._save()

    # ---- rollback anchors ----------------------------------------------------------------------------------
    def counter(self, name: str) -> int:
        """The anchored value of counter ``name`` (0 if never set), as the keyring file holds it now.

        Re-reads the file so a counter advanced by another process is seen. Raises ``KeyringChangedError`` if the
        file changed in a way this copy cannot verify, and ``CounterRollbackError`` if the keyring file itself
        went back to an older copy while this process watched.
        """
        check_counter_name(name)
        with self._state:
            self._sync()
            return int(self._doc.get("counters", {}).get(name, 0))

    def advance_counter(self, name: str, value: int) -> None:
        """Raise counter ``name`` to ``value`` and persist it under the keyring's MAC, atomically and locked.

        Monotonic: a lower value than the anchored one raises ``CounterRollbackError`` and changes nothing; the
        same value is accepted and writes nothing.
        """
        check_counter_name(name)
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= kf.MAX_COUNTER:
            raise ValueError(f"a counter value is an integer from 0 to {kf.MAX_COUNTER}")
        with self._changing():
            current = int(self._doc.get("counters", {}).get(name, 0))
            if value < current:
                raise CounterRollbackError(f"counter {name} is anchored at {current}; refusing to move it back "
                                           f"to {value}")
            if value == current:
                return
            self._doc.setdefault("counters", {})[name] = value
            self._doc["format_version"] = kf.COUNTERS_VERSION
            self._save()

    # ---- internals -----------------------------------------------------------------------------------------
    def _add_dek(self, purpose: str) -> DataKey:
        check_purpose(purpose)
        self._doc["keks"].setdefault(purpose, 1)
        key = DataKey(key_id=os.urandom(8), secret=SecretBytes(os.urandom(32)))
        kek = _kek(self._master, purpose, self._doc["keks"][purpose])
        wrapped = envelope.seal(kek, key.secret.reveal(), _wrap_context(purpose, key.key_id))
        self._doc["deks"].setdefault(purpose, []).append(
            {"id": key.key_id.hex(), "wrapped": kf.b64e(wrapped), "created_at": _now(), "active": True}
        )
        self._deks.setdefault(purpose, {})[key.key_id] = key
        return key

    def _rewrap(self, master: SecretBytes, purposes: list[str]) -> None:
        for purpose in purposes:
            kek = _kek(master, purpose, self._doc["keks"][purpose])
            for entry in self._doc["deks"][purpose]:
                key = self._deks[purpose][bytes.fromhex(entry["id"])]
                entry["wrapped"] = kf.b64e(envelope.seal(kek, key.secret.reveal(), _wrap_context(purpose, key.key_id)))

    @contextmanager
    def _changing(self) -> Iterator[None]:
        """Hold the update lock, start from the file as it is now, and undo in memory whatever did not persist."""
        with self._state, keyring_lock(self._path):
            self._sync()
            saved = (copy.deepcopy(self._doc), {p: dict(k) for p, k in self._deks.items()}, self._master, self._raw)
            try:
                yield
            except BaseException:
                self._doc, self._deks, self._master, self._raw = saved
                raise

    def _sync(self) -> None:
        """Adopt the file on disk if someone else changed it, provided this copy's master key verifies it."""
        raw = kf.read_raw(self._path)
        if raw == self._raw:
            return
        document = kf.parse_document(raw, self._path)
        if not (hmac.compare_digest(kf.b64d(document["verifier"], "verifier"), _verifier(self._master))
                and hmac.compare_digest(_mac(self._master, document), kf.b64d(document["mac"], "mac"))):
            raise KeyringChangedError(
                f"keyring {shown(self._path)} was changed by another process (new password or master key, or "
                "edited) since it was unlocked; nothing was written: unlock it again"
            )
        mine, theirs = self._doc.get("counters", {}), document.get("counters", {})
        behind = sorted(name for name, value in mine.items() if theirs.get(name, 0) < value)
        if behind:
            raise CounterRollbackError(f"keyring {shown(self._path)} went back to an older copy: counter "
                                       f"{behind[0]} is below the value this process anchored")
        self._deks = _unwrap_all(self._master, document)
        self._doc, self._raw = document, raw

    def _save(self, *, create: bool = False) -> None:
        self._doc["updated_at"] = _now()
        self._doc["mac"] = kf.b64e(_mac(self._master, self._doc))
        data = kf.serialize(self._doc)
        try:
            if create:
                atomic_create(self._path, data)
            else:
                atomic_write(self._path, data)
        except FileExistsError:
            raise KeyringExistsError(f"refusing to overwrite existing keyring {shown(self._path)}") from None
        except OSError as exc:
            outcome = "no keyring was created" if create else "the keyring on disk is unchanged"
            raise KeyringIOError(f"cannot write keyring {shown(self._path)}: {exc.strerror or exc}; {outcome}") \
                from None
        self._raw = data


def _unwrap_all(master: SecretBytes, document: dict[str, Any]) -> dict[str, dict[bytes, DataKey]]:
    deks: dict[str, dict[bytes, DataKey]] = {}
    for purpose, entries in document["deks"].items():
        if purpose not in document["keks"]:
            raise KeyringCorruptError(f"keyring has data keys for {shown(purpose)} but no KEK version")
        if sum(1 for e in entries if e["active"]) != 1:
            raise KeyringCorruptError(f"keyring must have exactly one active data key for {shown(purpose)}")
        try:
            kek = _kek(master, purpose, document["keks"][purpose])
        except ValueError:
            raise KeyringCorruptError(f"keyring names an invalid key purpose {shown(purpose)}") from None
        for entry in entries:
            key_id = bytes.fromhex(entry["id"])
            try:
                secret = envelope.open_(kek, kf.b64d(entry["wrapped"], "wrapped"), _wrap_context(purpose, key_id))
            except AicoSecureError:
                raise KeyringCorruptError(
                    f"keyring data key {entry['id']} for {shown(purpose)} does not unwrap") from None
            deks.setdefault(purpose, {})[key_id] = DataKey(key_id, SecretBytes(secret))
    return deks


def keyring_exists(directory: Path) -> bool:
    return Keyring.path_in(directory).exists()


__all__ = ["KdfDescription", "Keyring", "KeyringNotFoundError", "UnlockedKeyring", "check_counter_name",
           "keyring_exists"]
