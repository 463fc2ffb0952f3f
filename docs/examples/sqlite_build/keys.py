"""The team's vault: an Argon2id-unlocked JSON keyring of AES-GCM-wrapped data keys, with a session cache.

Layout of ``<directory>/vault.json`` (one file, rewritten atomically, mode 0600)::

    {"format": "sqlite-build-vault/1",
     "kdf": {"algorithm": "argon2id", "time_cost", "memory_kib", "parallelism", "salt" (base64), "test_only"},
     "check": base64(HMAC of a fixed label under a key derived from the master key),
     "purposes": {purpose: {"kek_generation": n, "data_keys": [{"id": hex, "wrapped": base64}]}},
     "seal": base64(HMAC over everything above, canonical JSON)}

Master key = Argon2id(password, salt). Every other key comes from it through HKDF-SHA256 with a versioned label:
the check and seal keys, one key per purpose, and one key-encryption key per purpose and KEK generation (so a
KEK rotation bumps the generation and re-wraps that purpose's data keys). Data keys are random and stored only
wrapped. Records are sealed with AES-GCM under the purpose's newest data key; the envelope names the key::

    0x01 | data key id (8 bytes) | nonce (12 bytes) | ciphertext and tag

with the purpose and the record key as associated data, so a record moved to another key or purpose fails.

The session cache (``SessionCache``): Argon2id at production strength costs a noticeable fraction of a second
and 64 MiB per unlock, and the companion, its in-process CLI commands and every store re-open the vault. So
each ``Vault`` keeps, per keyring directory, the master key of its last unlock behind an HMAC of the password
under a per-process secret: an unlock with the same password reuses it (after checking the keyring's seal
with it, so a keyring changed by another process falls back to the KDF). It lives as long as the process;
closing a session does not end it. Nothing of it is ever written to disk.

Known flaws: see the package docstring (1: ``change_password``; 2: ``VaultSession.seal``).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hmac
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from argon2.exceptions import Argon2Error
from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

FORMAT = "sqlite-build-vault/1"
VAULT_FILE = "vault.json"
ENVELOPE_VERSION = 1
KEY_ID_BYTES = 8
NONCE_BYTES = 12
TAG_BYTES = 16
HEADER_BYTES = 1 + KEY_ID_BYTES + NONCE_BYTES
SALT_BYTES = 32


@dataclass(frozen=True)
class KdfParams:
    time_cost: int
    memory_kib: int
    parallelism: int


# RFC 9106's second recommended option; the CI profile exists only so test suites do not spend minutes in the KDF.
PRODUCTION = KdfParams(time_cost=3, memory_kib=64 * 1024, parallelism=4)
CI = KdfParams(time_cost=1, memory_kib=8 * 1024, parallelism=1)
# What a keyring may declare before the KDF runs: a damaged file must not make the unlock hang or exhaust memory.
LIMITS = {"time_cost": (1, 16), "memory_kib": (8, 1 << 21), "parallelism": (1, 16)}


class VaultError(Exception):
    """Base of the vault's errors; messages name files and operations, never passwords or keys."""


class WrongPassword(VaultError):
    """The password does not unlock this keyring."""


class DamagedVault(VaultError):
    """The keyring is missing, unreadable, malformed, of an unknown format, or fails its seal."""


class BadEnvelope(VaultError):
    """A sealed record does not authenticate or names no data key of the keyring."""


# ---- key derivation ------------------------------------------------------------------------------------------
def _stretch(password: str, salt: bytes, params: KdfParams) -> bytes:
    try:
        return hash_secret_raw(password.encode("utf-8"), salt, params.time_cost, params.memory_kib,
                               params.parallelism, 32, Type.ID)
    except Argon2Error:
        raise DamagedVault("the keyring's KDF parameters are unusable") from None


def _subkey(master: bytes, label: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=f"sqlite-build/v1/{label}".encode()).derive(master)


def _check_value(master: bytes) -> str:
    return base64.b64encode(hmac.digest(_subkey(master, "check"), b"vault password check", "sha256")).decode()


def _kek(master: bytes, purpose: str, generation: int) -> bytes:
    return _subkey(master, f"kek/{purpose}/{generation}")


def _seal_value(master: bytes, doc: Mapping[str, Any]) -> str:
    body = {k: v for k, v in doc.items() if k != "seal"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    return base64.b64encode(hmac.digest(_subkey(master, "seal"), canonical, "sha256")).decode()


def _associated_data(purpose: str, record_key: bytes) -> bytes:
    encoded = purpose.encode()
    return b"sqlite-build/v1/record\x00" + len(encoded).to_bytes(2, "big") + encoded + record_key


def _wrap(kek: bytes, purpose: str, key_id: str, key: bytes) -> str:
    nonce = os.urandom(NONCE_BYTES)
    return base64.b64encode(nonce + AESGCM(kek).encrypt(nonce, key, f"{purpose}/{key_id}".encode())).decode()


def _unwrap(kek: bytes, purpose: str, key_id: str, wrapped: str) -> bytes:
    try:
        raw = base64.b64decode(wrapped, validate=True)
        return AESGCM(kek).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], f"{purpose}/{key_id}".encode())
    except (InvalidTag, binascii.Error, ValueError):
        raise DamagedVault(f"a {purpose} data key does not unwrap") from None


# ---- the file ------------------------------------------------------------------------------------------------
def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DamagedVault(f"cannot read the keyring: {type(exc).__name__}") from None


def _parse(text: str) -> tuple[dict[str, Any], bytes, KdfParams, bool]:
    """The document, its salt, its KDF parameters and whether it is a CI keyring; anything off is damage."""
    try:
        doc = json.loads(text)
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise DamagedVault("not a keyring of a format this vault knows")
        kdf = doc["kdf"]
        if kdf["algorithm"] != "argon2id" or not isinstance(kdf["test_only"], bool):
            raise DamagedVault("unknown KDF")
        values = {name: kdf[name] for name in LIMITS}
        for name, (low, high) in LIMITS.items():
            if type(values[name]) is not int or not low <= values[name] <= high:
                raise DamagedVault(f"KDF parameter {name} out of range")
        salt = base64.b64decode(kdf["salt"], validate=True)
        if len(salt) < 16 or not isinstance(doc["check"], str) or not isinstance(doc["seal"], str):
            raise DamagedVault("malformed keyring header")
        if not isinstance(doc["purposes"], dict):
            raise DamagedVault("malformed key table")
        return doc, salt, KdfParams(**values), kdf["test_only"]
    except DamagedVault:
        raise
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise DamagedVault("the keyring is not well-formed") from None


def _write_atomically(directory: Path, text: str) -> None:
    """Write, fsync, rename over, fsync the directory: a kill at any moment leaves the old or the new file."""
    tmp = directory / f".{VAULT_FILE}.{os.getpid()}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, directory / VAULT_FILE)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError as exc:
        raise DamagedVault(f"cannot write the keyring: {exc.strerror or type(exc).__name__}") from None


# ---- the session cache ---------------------------------------------------------------------------------------
@dataclass
class CachedUnlock:
    password_check: bytes  # HMAC of the password under the cache's per-process secret
    master: bytes


class SessionCache:
    """Unlocks of this process, per keyring directory (see the module docstring for why it exists)."""

    def __init__(self) -> None:
        self._secret = os.urandom(32)
        self._entries: dict[Path, CachedUnlock] = {}

    def password_check(self, password: str) -> bytes:
        return hmac.digest(self._secret, password.encode("utf-8"), "sha256")

    def lookup(self, directory: Path, password: str) -> bytes | None:
        entry = self._entries.get(directory)
        if entry is None or not hmac.compare_digest(entry.password_check, self.password_check(password)):
            return None
        return entry.master

    def remember(self, directory: Path, password: str, master: bytes) -> None:
        self._entries[directory] = CachedUnlock(self.password_check(password), master)

    def refresh_master(self, directory: Path, master: bytes) -> None:
        entry = self._entries.get(directory)
        if entry is not None:
            entry.master = master

    def __repr__(self) -> str:
        return f"SessionCache({len(self._entries)} keyrings)"


# ---- the vault and its sessions ------------------------------------------------------------------------------
class Vault:
    """Creates and unlocks keyrings; one per process, holding the session cache."""

    def __init__(self) -> None:
        self.cache = SessionCache()

    def __repr__(self) -> str:
        return "Vault()"

    def create(self, directory: Path, password: str, *, test_profile: bool) -> VaultSession:
        if not password:
            raise ValueError("a vault password must not be empty")
        directory = Path(directory)
        try:
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise DamagedVault(f"cannot create the vault directory: {exc.strerror}") from None
        if (directory / VAULT_FILE).exists():
            raise DamagedVault("a keyring already exists there")
        params = CI if test_profile else PRODUCTION
        salt = os.urandom(SALT_BYTES)
        master = _stretch(password, salt, params)
        doc: dict[str, Any] = {
            "format": FORMAT,
            "kdf": {"algorithm": "argon2id", "time_cost": params.time_cost, "memory_kib": params.memory_kib,
                    "parallelism": params.parallelism, "salt": base64.b64encode(salt).decode(),
                    "test_only": test_profile},
            "check": _check_value(master),
            "purposes": {},
        }
        doc["seal"] = _seal_value(master, doc)
        text = json.dumps(doc, sort_keys=True, indent=1)
        _write_atomically(directory, text)
        self.cache.remember(directory.resolve(), password, master)
        return VaultSession(self, directory, doc, text, master)

    def unlock(self, directory: Path, password: str) -> VaultSession:
        directory = Path(directory)
        text = _read_text(directory / VAULT_FILE)
        doc, salt, params, _test = _parse(text)
        key = directory.resolve()
        cached = self.cache.lookup(key, password)
        if cached is not None and hmac.compare_digest(_seal_value(cached, doc), doc["seal"]):
            return VaultSession(self, directory, doc, text, cached)
        master = _stretch(password, salt, params)
        if not hmac.compare_digest(_check_value(master), doc["check"]):
            raise WrongPassword("the password does not unlock this keyring")
        if not hmac.compare_digest(_seal_value(master, doc), doc["seal"]):
            raise DamagedVault("the keyring fails its seal: it was edited or damaged")
        self.cache.remember(key, password, master)
        return VaultSession(self, directory, doc, text, master)

    @staticmethod
    def kdf_of(directory: Path) -> tuple[KdfParams, bytes, bool]:
        _doc, salt, params, test_only = _parse(_read_text(Path(directory) / VAULT_FILE))
        return params, salt, test_only


class VaultSession:
    """An unlocked keyring. Holds the master key and the data keys it unwrapped until ``close``."""

    def __init__(self, vault: Vault, directory: Path, doc: dict[str, Any], text: str, master: bytes) -> None:
        self._vault = vault
        self.directory = directory
        self._doc = doc
        self._seen = text  # the file as this session last read or wrote it
        self._master: bytes | None = master
        self._plain: dict[tuple[str, str], bytes] = {}
        self._counters: dict[str, int] = {}

    def __repr__(self) -> str:
        return f"VaultSession({str(self.directory)!r}, {'closed' if self._master is None else 'open'})"

    # ---- internals ---------------------------------------------------------------------------------------
    def _key(self) -> bytes:
        if self._master is None:
            raise VaultError("the session is closed")
        return self._master

    def _purpose(self, purpose: str) -> dict[str, Any]:
        entry = self._doc["purposes"].get(purpose)
        if entry is None:
            raise KeyError(purpose)
        return dict(entry)

    def _commit(self, doc: dict[str, Any], master: bytes) -> None:
        """Seal and write ``doc`` under ``master``, unless another session changed the keyring since this one
        read it: writing over that would undo it (a password change would come back undone)."""
        if _read_text(self.directory / VAULT_FILE) != self._seen:
            raise DamagedVault("the keyring changed since this session unlocked it; unlock it again")
        doc["seal"] = _seal_value(master, doc)
        text = json.dumps(doc, sort_keys=True, indent=1)
        _write_atomically(self.directory, text)
        self._doc, self._seen, self._master = doc, text, master

    def _copy(self) -> dict[str, Any]:
        copied: dict[str, Any] = json.loads(json.dumps(self._doc))
        return copied

    def _ensure(self, purpose: str) -> None:
        if purpose not in self._doc["purposes"]:
            self._add_key(purpose, {"kek_generation": 0, "data_keys": []})

    def _add_key(self, purpose: str, entry: dict[str, Any]) -> None:
        master = self._key()
        key_id, key = os.urandom(KEY_ID_BYTES).hex(), os.urandom(32)
        kek = _kek(master, purpose, entry["kek_generation"])
        doc = self._copy()
        doc["purposes"][purpose] = {"kek_generation": entry["kek_generation"],
                                    "data_keys": [*entry["data_keys"], {"id": key_id,
                                                                        "wrapped": _wrap(kek, purpose, key_id, key)}]}
        self._commit(doc, master)
        self._plain[(purpose, key_id)] = key

    def data_keys(self, purpose: str) -> list[tuple[str, bytes]]:
        """``(id, key)`` of every data key of ``purpose``, oldest first; the first use of a purpose makes one."""
        self._ensure(purpose)
        return self.existing_keys(purpose)

    def existing_keys(self, purpose: str) -> list[tuple[str, bytes]]:
        """The data keys ``purpose`` has, unwrapped (none if it was never used): reading makes no key."""
        master = self._key()
        if purpose not in self._doc["purposes"]:
            return []
        entry = self._purpose(purpose)
        kek = _kek(master, purpose, entry["kek_generation"])
        keys = []
        for item in entry["data_keys"]:
            key_id = item["id"]
            if (purpose, key_id) not in self._plain:
                self._plain[(purpose, key_id)] = _unwrap(kek, purpose, key_id, item["wrapped"])
            keys.append((key_id, self._plain[(purpose, key_id)]))
        return keys

    # ---- keys and records --------------------------------------------------------------------------------
    def purpose_key(self, purpose: str) -> bytes:
        return _subkey(self._key(), f"purpose/{purpose}")

    def seal(self, purpose: str, record_key: bytes, plaintext: bytes) -> bytes:
        key_id, key = self.data_keys(purpose)[-1]
        # SP 800-38D's deterministic construction: fixed field from the key id, then the invocation counter.
        counter = self._counters.get(purpose, 0)
        self._counters[purpose] = counter + 1
        raw_id = bytes.fromhex(key_id)
        nonce = raw_id[:4] + counter.to_bytes(8, "big")
        body = AESGCM(key).encrypt(nonce, plaintext, _associated_data(purpose, record_key))
        return bytes([ENVELOPE_VERSION]) + raw_id + nonce + body

    @staticmethod
    def key_id_of(sealed: bytes) -> str:
        if len(sealed) < HEADER_BYTES + TAG_BYTES or sealed[0] != ENVELOPE_VERSION:
            raise BadEnvelope("not a sealed record of this vault")
        return sealed[1:1 + KEY_ID_BYTES].hex()

    def open(self, purpose: str, record_key: bytes, sealed: bytes) -> bytes:
        key_id = self.key_id_of(sealed)
        keys = dict(self.existing_keys(purpose))
        if key_id not in keys:
            raise BadEnvelope("sealed with a data key this keyring does not hold")
        nonce = sealed[1 + KEY_ID_BYTES:HEADER_BYTES]
        try:
            return AESGCM(keys[key_id]).decrypt(nonce, sealed[HEADER_BYTES:], _associated_data(purpose, record_key))
        except InvalidTag:
            raise BadEnvelope("the record does not authenticate") from None

    def wrapping_key_fingerprint(self, purpose: str) -> str:
        entry = self._doc["purposes"].get(purpose, {"kek_generation": 0})
        kek = _kek(self._key(), purpose, entry["kek_generation"])
        return hmac.digest(kek, b"sqlite-build kek fingerprint", "sha256")[:8].hex()

    # ---- rotations ---------------------------------------------------------------------------------------
    def rotate_data_key(self, purpose: str) -> None:
        self._ensure(purpose)
        self._add_key(purpose, self._purpose(purpose))

    def rotate_kek(self, purpose: str) -> None:
        keys = self.data_keys(purpose)
        master = self._key()
        generation = self._purpose(purpose)["kek_generation"] + 1
        kek = _kek(master, purpose, generation)
        doc = self._copy()
        doc["purposes"][purpose] = {"kek_generation": generation,
                                    "data_keys": [{"id": kid, "wrapped": _wrap(kek, purpose, kid, key)}
                                                  for kid, key in keys]}
        self._commit(doc, master)

    def _verify(self, password: str) -> None:
        salt = base64.b64decode(self._doc["kdf"]["salt"])
        params = KdfParams(**{name: self._doc["kdf"][name] for name in LIMITS})
        if not hmac.compare_digest(_stretch(password, salt, params), self._key()):
            raise WrongPassword("the current password is wrong")

    def _rekey(self, password: str) -> None:
        """New salt, so a new master key; every data key re-wrapped under the new master's KEKs."""
        plain = {purpose: self.data_keys(purpose) for purpose in self._doc["purposes"]}
        doc = self._copy()
        salt = os.urandom(SALT_BYTES)
        kdf = doc["kdf"]
        master = _stretch(password, salt, KdfParams(kdf["time_cost"], kdf["memory_kib"], kdf["parallelism"]))
        kdf["salt"] = base64.b64encode(salt).decode()
        doc["check"] = _check_value(master)
        for purpose, keys in plain.items():
            generation = doc["purposes"][purpose]["kek_generation"]
            kek = _kek(master, purpose, generation)
            doc["purposes"][purpose]["data_keys"] = [{"id": kid, "wrapped": _wrap(kek, purpose, kid, key)}
                                                     for kid, key in keys]
        self._commit(doc, master)
        # Keep the session cache in step with the keyring, so the next unlock in this process skips the KDF.
        self._vault.cache.refresh_master(self.directory.resolve(), master)

    def rotate_master(self, password: str) -> None:
        self._verify(password)
        self._rekey(password)

    def change_password(self, old_password: str, new_password: str) -> None:
        if not new_password:
            raise ValueError("a vault password must not be empty")
        self._verify(old_password)
        self._rekey(new_password)

    # ---- test hooks and lifetime -------------------------------------------------------------------------
    def secret_material(self) -> dict[str, bytes]:
        found = {"master": self._key()}
        for purpose in self._doc["purposes"]:
            found.update({f"dek:{purpose}:{kid}": key for kid, key in self.data_keys(purpose)})
        return found

    def close(self) -> None:
        self._master = None
        self._plain.clear()
