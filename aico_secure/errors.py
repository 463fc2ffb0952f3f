"""Typed exceptions of the reference implementation.

Every failure a caller can act on has its own class, so callers never have to parse messages. Messages name
the problem and the file, never a password or key byte.
"""

from __future__ import annotations


class AicoSecureError(Exception):
    """Root of every error raised on purpose by aico_secure."""


class CryptoError(AicoSecureError):
    """A cryptographic operation refused its input."""


class MalformedEnvelopeError(CryptoError):
    """Bytes that are not a well-formed AEAD envelope (too short, unknown version, bad header)."""


class AuthenticationFailedError(CryptoError):
    """An envelope's tag did not verify: wrong key, tampered bytes or swapped associated data."""


class UnknownKeyIdError(CryptoError):
    """An envelope names a data key that the keyring does not hold."""


class KeyringError(AicoSecureError):
    """A keyring could not be created, opened or changed."""


class WrongPasswordError(KeyringError):
    """The password does not unlock this keyring. Nothing was opened or changed."""


class KeyringCorruptError(KeyringError):
    """The keyring file is truncated, malformed or fails its integrity check."""


class KeyringVersionError(KeyringError):
    """The keyring was written in a format version this release does not read."""


class KeyringExistsError(KeyringError):
    """Refusing to overwrite an existing keyring."""


class KeyringNotFoundError(KeyringError):
    """No keyring at the given location."""


class KdfProfileError(KeyringError):
    """A KDF profile is unknown, below its minimums, or not allowed in this context."""
