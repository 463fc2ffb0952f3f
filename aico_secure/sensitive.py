"""A bytes holder for key material that cannot leak through repr, str, logging, pickling or f-strings.

Keys travel through code that logs, raises and pretty-prints; one stray ``repr`` in an exception message is
enough to write a master key into a log. ``SecretBytes`` makes the safe thing the default: the raw bytes are
only reachable through an explicit ``reveal()``.
"""

from __future__ import annotations

import hmac
from typing import NoReturn


class SecretBytes:
    """Key material. ``reveal()`` is the one way to the bytes; everything else prints a redaction."""

    __slots__ = ("_value",)

    def __init__(self, value: bytes) -> None:
        if not isinstance(value, (bytes, bytearray)):
            raise TypeError("SecretBytes holds bytes")
        self._value = bytes(value)

    def reveal(self) -> bytes:
        return self._value

    def __len__(self) -> int:
        return len(self._value)

    def __repr__(self) -> str:
        return f"SecretBytes(<redacted {len(self._value)} bytes>)"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SecretBytes):
            return NotImplemented
        return hmac.compare_digest(self._value, other._value)

    def __hash__(self) -> int:
        raise TypeError("SecretBytes is not hashable: hashing would make key bytes observable")

    def __reduce__(self) -> NoReturn:
        raise TypeError("SecretBytes refuses to be pickled")

    def __bytes__(self) -> NoReturn:
        raise TypeError("use .reveal() to get key bytes, explicitly")
