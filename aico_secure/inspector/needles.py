"""What an inspection looks for: text canaries, embedding canaries and key material.

Keys are held as ``SecretBytes`` from the moment they enter the inspector; the patterns derived from them
(hex, base64) are secrets too, so ``Pattern`` never shows its bytes in a repr.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from aico_secure.inspector.encodings import canary_bytes, printable
from aico_secure.inspector.errors import BadNeedle
from aico_secure.sensitive import SecretBytes

MIN_CANARY_BYTES = 6
MIN_KEY_BYTES = 8
MIN_VECTOR_DIMS = 4


@dataclass(frozen=True)
class Pattern:
    """One literal byte string for the shared Aho-Corasick pass, owned by the detector that reports it."""

    label: str  # "canary:<text>", "key:<name>", "magic:<format>": never key bytes
    encoding: str
    needle: bytes = field(repr=False)
    owner: str = "literal"


@dataclass(frozen=True)
class Needles:
    canaries: tuple[str, ...] = ()
    vectors: tuple[tuple[float, ...], ...] = ()
    keys: tuple[tuple[str, SecretBytes], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.canaries or self.vectors or self.keys)

    @classmethod
    def build(cls, canaries: Iterable[str] = (), vectors: Iterable[Sequence[float]] = (),
              keys: Iterable[tuple[str, bytes | SecretBytes]] = ()) -> Needles:
        """Validate and normalise; raise ``BadNeedle`` for anything too short or malformed to search for."""
        texts: dict[str, None] = {}  # ordered set: thousands of canaries dedup in linear time
        for canary in canaries:
            if not isinstance(canary, str):
                raise BadNeedle(f"a canary must be text, got {type(canary).__name__}")
            try:
                size = len(canary_bytes(canary))
            except UnicodeEncodeError:
                raise BadNeedle(f"canary {printable(canary)!r} holds a lone surrogate that stands for no byte"
                                ) from None
            if size < MIN_CANARY_BYTES:
                raise BadNeedle(f"canary {printable(canary)!r} is shorter than {MIN_CANARY_BYTES} bytes: it would "
                                "match by chance")
            texts.setdefault(canary)
        vecs: list[tuple[float, ...]] = []
        for i, vector in enumerate(vectors):
            try:
                values = tuple(float(x) for x in vector)
            except (TypeError, ValueError, OverflowError):
                raise BadNeedle(f"vector canary {i} is not a list of numbers") from None
            if len(values) < MIN_VECTOR_DIMS:
                raise BadNeedle(f"vector canary {i} has {len(values)} dimensions; at least {MIN_VECTOR_DIMS} "
                                "are needed to be distinctive")
            if not all(math.isfinite(x) for x in values):
                raise BadNeedle(f"vector canary {i} holds a NaN or an infinity")
            if not any(values):
                raise BadNeedle(f"vector canary {i} is all zeros: zeros are everywhere on disk")
            vecs.append(values)
        named: list[tuple[str, SecretBytes]] = []
        for name, key in keys:
            secret = key if isinstance(key, SecretBytes) else SecretBytes(key)
            if len(secret) < MIN_KEY_BYTES:
                raise BadNeedle(f"key {name!r} is shorter than {MIN_KEY_BYTES} bytes")
            named.append((str(name), secret))
        return cls(tuple(texts), tuple(vecs), tuple(named))
