"""The keys capability memoises purpose keys per keyring directory, so after a master rotation or password
change ``derive`` keeps returning the keys of the old master key."""

from __future__ import annotations

from pathlib import Path

from aico_secure.reference.keys import ReferenceKeys, ReferenceKeySession
from aico_secure.target import Target

from ._base import reference_with

BREAKS = ("AICO-KM-004",)


class MemoSession(ReferenceKeySession):
    def __init__(self, keyring: object, memo: dict[tuple[Path, str], bytes]) -> None:
        super().__init__(keyring)  # type: ignore[arg-type]
        self.memo = memo

    def derive(self, purpose: str) -> bytes:
        slot = (self.keyring.path.resolve(), purpose)
        if slot not in self.memo:
            self.memo[slot] = super().derive(purpose)
        return self.memo[slot]


class MemoKeys(ReferenceKeys):
    def __init__(self) -> None:
        self.memo: dict[tuple[Path, str], bytes] = {}

    def create(self, directory: Path, password: str, *, fast_kdf: bool) -> ReferenceKeySession:
        return MemoSession(super().create(directory, password, fast_kdf=fast_kdf).keyring, self.memo)

    def unlock(self, directory: Path, password: str) -> ReferenceKeySession:
        return MemoSession(super().unlock(directory, password).keyring, self.memo)


def build() -> Target:
    return reference_with("purpose keys memoised across master changes", keys=MemoKeys())
