"""A worked example of the target contract: an outside "build" with its own keyring, and its adapter.

The first half stands in for a team's own code (a keyring they wrote without aico-secure); the second half is
the adapter, the only part a team writes for the suite. Run it:

    PYTHONPATH=docs/examples aico-secure conform --target toy_adapter:build

Key management passes; every other capability is absent, so its requirements come out "not implemented" and
the run fails, as it must for a build that lacks them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import stat
from collections.abc import Mapping
from pathlib import Path

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from aico_secure.target import IntegrityViolation, KdfReport, RejectedCredentials, Target

# ---------------------------------------------------------------- the team's own code (stand-in) ----------
PARAMS = {"production": (3, 64 * 1024, 4), "test": (1, 1024, 1)}


def _new_password(password: str) -> str:
    """An empty password would make the master key depend on the salt alone, which sits beside the keyring."""
    if not password:
        raise ValueError("a password must not be empty")
    return password


def _kdf(password: str, salt: bytes, profile: str) -> bytes:
    t, m, p = PARAMS[profile]
    return hash_secret_raw(password.encode(), salt, t, m, p, 32, Type.ID)


def _sub(master: bytes, label: str) -> bytes:
    return hmac.new(master, label.encode(), hashlib.sha256).digest()


def _read_regular(path: Path) -> str:
    """The keyring's text, refusing anything but a regular file: opening a FIFO planted in its place must not block."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            raise ValueError("the keyring is not a regular file")
        return fh.read().decode("utf-8")


class ToyKeyring:
    """keyring.json = {"body": {...}, "mac": hex}; data keys are random and wrapped with AES-GCM."""

    def __init__(self, path: Path, body: dict, master: bytes) -> None:  # type: ignore[type-arg]
        self.path, self.body, self.master = path, body, master
        self.seen: str | None = None  # the file as this session last read or wrote it

    @classmethod
    def create(cls, path: Path, password: str, profile: str) -> ToyKeyring:
        salt = os.urandom(16)
        master = _kdf(_new_password(password), salt, profile)
        body = {"salt": salt.hex(), "profile": profile, "verifier": _sub(master, "verify").hex(), "keys": {}}
        ring = cls(path, body, master)
        ring.save()
        return ring

    @classmethod
    def open(cls, path: Path, password: str) -> ToyKeyring:
        try:
            doc = json.loads(_read_regular(path))
            body, salt = doc["body"], bytes.fromhex(doc["body"]["salt"])
            master = _kdf(password, salt, body["profile"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"damaged keyring: {type(exc).__name__}") from None
        if not hmac.compare_digest(_sub(master, "verify").hex(), str(body.get("verifier"))):
            raise PermissionError("wrong password")
        ring = cls(path, body, master)
        if not hmac.compare_digest(ring._mac(), str(doc.get("mac"))) or _read_regular(path) != ring._text():
            raise ValueError("keyring MAC mismatch")
        ring.seen = ring._text()
        return ring

    def _mac(self) -> str:
        return hmac.new(_sub(self.master, "mac"), json.dumps(self.body, sort_keys=True).encode(), "sha256").hexdigest()

    def _text(self) -> str:
        return json.dumps({"body": self.body, "mac": self._mac()}, sort_keys=True)

    def save(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        try:
            # Another session (a CLI next to the app) may have changed the password since this one unlocked:
            # writing this copy over it would bring the old password back.
            if self.seen is not None and _read_regular(self.path) != self.seen:
                raise IntegrityViolation("the keyring changed since this session unlocked it; unlock it again")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(self._text())
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
            self.seen = self._text()
        except OSError as exc:  # the directory went away, the disk is full: a refusal, not a crash
            raise IntegrityViolation(f"cannot write the keyring: {exc.strerror or exc}") from None

    def _kek(self, purpose: str) -> AESGCM:
        return AESGCM(_sub(self.master, f"kek/{purpose}"))

    def keys(self, purpose: str) -> list[tuple[str, bytes]]:
        if purpose not in self.body["keys"]:
            self.add_key(purpose)
        return [(kid, self._kek(purpose).decrypt(bytes.fromhex(w[:24]), bytes.fromhex(w[24:]), kid.encode()))
                for kid, w in self.body["keys"][purpose]]

    def add_key(self, purpose: str) -> None:
        kid, nonce = os.urandom(8).hex(), os.urandom(12)
        wrapped = nonce.hex() + self._kek(purpose).encrypt(nonce, os.urandom(32), kid.encode()).hex()
        self.body["keys"].setdefault(purpose, []).append([kid, wrapped])
        self.save()

    def rekey(self, password: str) -> None:
        plain = {p: self.keys(p) for p in list(self.body["keys"])}
        salt = os.urandom(16)
        self.master = _kdf(_new_password(password), salt, self.body["profile"])
        self.body.update(salt=salt.hex(), verifier=_sub(self.master, "verify").hex())
        for purpose, keys in plain.items():
            self.body["keys"][purpose] = []
            for kid, key in keys:
                nonce = os.urandom(12)
                wrapped = self._kek(purpose).encrypt(nonce, key, kid.encode())
                self.body["keys"][purpose].append([kid, nonce.hex() + wrapped.hex()])
        self.save()


# ---------------------------------------------------------------- the adapter: all a team writes ----------
class ToySession:
    def __init__(self, ring: ToyKeyring, password: str) -> None:
        self.ring = ring
        self._password = password  # the toy re-derives on KEK rotation; a real build would ask again

    def derive(self, purpose: str) -> bytes:
        return _sub(self.ring.master, f"purpose/{purpose}")

    def seal(self, purpose: str, record_key: bytes, plaintext: bytes) -> bytes:
        kid, key = self.ring.keys(purpose)[-1]
        nonce = os.urandom(12)
        return kid.encode() + nonce + AESGCM(key).encrypt(nonce, plaintext, purpose.encode() + b"/" + record_key)

    def open(self, purpose: str, record_key: bytes, sealed: bytes) -> bytes:
        keys = dict(self.ring.keys(purpose))
        kid, nonce, body = sealed[:16].decode("latin-1"), sealed[16:28], sealed[28:]
        if kid not in keys or len(nonce) != 12:
            raise IntegrityViolation("unknown key or malformed record")
        try:
            return AESGCM(keys[kid]).decrypt(nonce, body, purpose.encode() + b"/" + record_key)
        except InvalidTag:
            raise IntegrityViolation("record failed authentication") from None

    def data_key_ids(self, purpose: str) -> list[str]:
        return [kid for kid, _ in self.ring.keys(purpose)]

    def rotate_data_key(self, purpose: str) -> None:
        self.ring.add_key(purpose)

    def rotate_kek(self, purpose: str) -> None:
        self.ring.rekey(self._password)  # this toy derives KEKs from the master: a new salt re-wraps everything

    def rotate_master(self, password: str) -> None:
        self.change_password(password, password)

    def change_password(self, old_password: str, new_password: str) -> None:
        if not hmac.compare_digest(_kdf(old_password, bytes.fromhex(self.ring.body["salt"]), self.ring.body["profile"]),
                                   self.ring.master):
            raise RejectedCredentials("wrong current password")
        self.ring.rekey(new_password)
        self._password = new_password

    def secret_material(self) -> Mapping[str, bytes]:
        out = {"master": self.ring.master}
        for purpose in self.ring.body["keys"]:
            out.update({f"dek:{purpose}:{kid}": key for kid, key in self.ring.keys(purpose)})
        return out

    def close(self) -> None:
        pass


class ToyKeys:
    def create(self, directory: Path, password: str, *, fast_kdf: bool) -> ToySession:
        directory.mkdir(parents=True, exist_ok=True)
        profile = "test" if fast_kdf else "production"
        return ToySession(ToyKeyring.create(directory / "keyring.json", password, profile), password)

    def unlock(self, directory: Path, password: str) -> ToySession:
        try:
            return ToySession(ToyKeyring.open(directory / "keyring.json", password), password)
        except PermissionError:
            raise RejectedCredentials("wrong password") from None
        except ValueError as exc:
            raise IntegrityViolation(str(exc)) from None

    def describe_kdf(self, directory: Path) -> KdfReport:
        body = json.loads(_read_regular(directory / "keyring.json"))["body"]
        t, m, p = PARAMS[body["profile"]]
        return KdfReport("argon2id", t, m, p, len(bytes.fromhex(body["salt"])), body["profile"] == "test")

    def keyring_files(self, directory: Path) -> list[Path]:
        return [directory / "keyring.json"]


def build() -> Target:
    return Target(name="toy build", version="0.0.1", keys=ToyKeys())
