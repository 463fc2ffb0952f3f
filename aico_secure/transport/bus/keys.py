"""CURVE key pairs for the broker and for each component, in ZeroMQ's certificate file format.

Why files in ZeroMQ's own format: any ZeroMQ tool (pyzmq's ``zmq.auth.load_certificate``, czmq's ``zcert``)
reads them, so a component written in another language loads its key the same way. Secret files are written
atomically with mode 0600 and never live in the source tree: the real AICO bus shipped its broker secret in source.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import zmq
import zmq.auth

from aico_secure.keys.atomic import atomic_write
from aico_secure.sensitive import SecretBytes
from aico_secure.transport.errors import BusConfigError

_Z85_KEY = re.compile(rb"[0-9a-zA-Z.\-:+=^!/*?&<>()\[\]{}@%$#]{40}")


@dataclass(frozen=True)
class CurveKeyPair:
    """A CURVE key pair in Z85 text (40 characters each). Only the public half prints."""

    public: bytes
    secret: SecretBytes = field(repr=False)


def is_z85_key(value: bytes) -> bool:
    return isinstance(value, bytes) and _Z85_KEY.fullmatch(value) is not None


def generate() -> CurveKeyPair:
    public, secret = zmq.curve_keypair()
    return CurveKeyPair(public, SecretBytes(secret))


def _text(kind: str, public: bytes, secret: SecretBytes | None) -> bytes:
    lines = [
        f"#   ZeroMQ CURVE {kind} Certificate (written by aico-secure)",
        "#   Keep the secret file private: mode 0600, never copied into source." if secret else "#",
        "",
        "metadata",
        "curve",
        f'    public-key = "{public.decode("ascii")}"',
    ]
    text = "\n".join(lines) + "\n"
    if secret is not None:
        text += f'    secret-key = "{secret.reveal().decode("ascii")}"\n'
    return text.encode("ascii")


def write_keypair(pair: CurveKeyPair, directory: Path, name: str) -> tuple[Path, Path]:
    """Write ``<name>.key`` (public, 0644) and ``<name>.key_secret`` (0600); returns (public, secret) paths."""
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,63}", name):
        raise BusConfigError(f"key file name {name!r} must be [a-z0-9_-], at most 64 characters")
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    public_path, secret_path = directory / f"{name}.key", directory / f"{name}.key_secret"
    atomic_write(secret_path, _text("**Secret**", pair.public, pair.secret), mode=0o600)
    atomic_write(public_path, _text("Public", pair.public, None), mode=0o644)
    return public_path, secret_path


def load_keypair(secret_path: Path) -> CurveKeyPair:
    """Read a ``.key_secret`` file; ``BusConfigError`` if it is missing, malformed or readable by others."""
    try:
        mode = secret_path.stat().st_mode & 0o777
        public, secret = zmq.auth.load_certificate(str(secret_path))
    except (OSError, ValueError) as exc:
        raise BusConfigError(f"cannot load CURVE key file {secret_path.name}: {type(exc).__name__}") from None
    if mode & 0o077:
        raise BusConfigError(f"CURVE secret key file {secret_path.name} is readable by others (mode {mode:o})")
    if secret is None or not is_z85_key(public) or not is_z85_key(secret):
        raise BusConfigError(f"{secret_path.name} does not hold a CURVE key pair")
    if zmq.curve_public(secret) != public:
        raise BusConfigError(f"{secret_path.name}: public key does not match the secret key")
    return CurveKeyPair(public, SecretBytes(secret))


def load_or_create(directory: Path, name: str) -> CurveKeyPair:
    """The key pair stored as ``name`` in ``directory``, made (and written 0600) on first use."""
    secret_path = directory / f"{name}.key_secret"
    if secret_path.exists():
        return load_keypair(secret_path)
    pair = generate()
    write_keypair(pair, directory, name)
    return pair
