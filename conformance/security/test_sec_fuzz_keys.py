"""AICO-SEC-002 for the key layer: fuzzed ciphertexts and keyring files get the contract's typed refusals,
never another exception, a crash, or a silent acceptance."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aico_secure.conform.hypothesis_profiles import CHEAP, gate_budget
from aico_secure.conform.passphrases import passphrase
from aico_secure.target import IntegrityViolation, KeysCapability, KeySession, RejectedCredentials

pytestmark = pytest.mark.requirement("AICO-SEC-002")
_fuzz = settings(max_examples=gate_budget(CHEAP), deadline=None,
                 suppress_health_check=[HealthCheck.function_scoped_fixture])


@_fuzz
@given(blob=st.binary(max_size=512))
def test_random_ciphertexts_are_refused_with_integrity_violation(key_session: KeySession, blob: bytes) -> None:
    with pytest.raises(IntegrityViolation):
        key_session.open("libsql", b"k", blob)


@_fuzz
@given(edits=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(1, 255)), min_size=1, max_size=6),
       cut=st.one_of(st.none(), st.floats(0, 1)))
def test_mutated_keyrings_are_refused_not_crashed_on(keys: KeysCapability, tmp_path_factory: pytest.TempPathFactory,
                                                     edits: list[tuple[float, int]], cut: float | None) -> None:
    directory = tmp_path_factory.mktemp("fuzzkeys")
    password = passphrase()
    keys.create(directory, password, fast_kdf=True).close()
    files = keys.keyring_files(directory)
    originals = {p: p.read_bytes() for p in files}
    for path, data in originals.items():
        mutated = bytearray(data)
        for where, xor in edits:
            mutated[int(where * len(mutated))] ^= xor
        if cut is not None:
            mutated = mutated[: int(cut * len(mutated))]
        path.write_bytes(bytes(mutated))
    if all(p.read_bytes() == originals[p] for p in files):
        return
    with pytest.raises((IntegrityViolation, RejectedCredentials)):
        keys.unlock(directory, password).close()


def test_unlocking_a_directory_without_a_keyring_is_a_typed_refusal(keys: KeysCapability, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises((IntegrityViolation, RejectedCredentials)):
        keys.unlock(tmp_path / "empty", "whatever")
