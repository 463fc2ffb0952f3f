"""The suite's passphrases: strong enough that no build may refuse them as weak, shaped like a user's so no
redactor spots them by shape, accepted by the reference and by an outside build (the toy adapter), and found
by the leak checks however a build encodes them."""

from __future__ import annotations

import importlib.util
import json
import re
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest

from aico_secure.conform import passphrases
from aico_secure.conform.checks import find_leaks, text_contains_secret
from aico_secure.conform.passphrases import MARKS, MAX_WORDS, MIN_BITS, MIN_WORDS, entropy_bits, passphrase
from aico_secure.conform.wordlist import WORDS
from aico_secure.reference import build as reference_build
from aico_secure.target import KeysCapability, RejectedCredentials

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = 2000


@pytest.fixture(scope="module")
def samples() -> list[str]:
    return [passphrase() for _ in range(SAMPLES)]


def _words(phrase: str) -> list[str]:
    """The word tokens of a passphrase, without the mark; the number token is left out."""
    return [t.rstrip(MARKS) for t in phrase.split(" ") if not t.rstrip(MARKS).isdigit()]


def test_word_list_is_plain_common_words_without_duplicates() -> None:
    assert len(set(WORDS)) == len(WORDS), "the word list has duplicates: its entropy would be overstated"
    assert all(re.fullmatch(r"[a-z]{3,8}", w) for w in WORDS), [w for w in WORDS if not re.fullmatch(r"[a-z]{3,8}", w)]
    assert len(WORDS) >= 512


def test_entropy_is_at_least_the_floor_for_every_length() -> None:
    assert all(entropy_bits(n) >= MIN_BITS for n in range(MIN_WORDS, MAX_WORDS + 1)), \
        [entropy_bits(n) for n in range(MIN_WORDS, MAX_WORDS + 1)]


def test_shape_is_that_of_a_written_passphrase(samples: list[str]) -> None:
    lookup = set(WORDS)
    for phrase in samples:
        tokens = phrase.split(" ")
        words = _words(phrase)
        assert MIN_WORDS <= len(words) <= MAX_WORDS and len(tokens) == len(words) + 1, phrase
        assert all(w.lower() in lookup for w in words), phrase
        assert sum(w != w.lower() for w in words) == 1, f"not exactly one capitalised word: {phrase}"
        assert sum(c in MARKS for c in phrase) == 1, f"not exactly one punctuation mark: {phrase}"
        assert re.search(r"(?<![0-9])[0-9]{1,2}(?![0-9])", phrase), f"no number of one or two digits: {phrase}"
        assert phrase == phrase.strip() and "  " not in phrase, phrase
        assert phrase.isascii() and phrase.isprintable(), phrase


def test_every_choice_varies(samples: list[str]) -> None:
    """Each part the entropy count relies on really is random: not one fixed word, position, length or mark."""
    assert len(set(samples)) == len(samples)
    assert {len(_words(p)) for p in samples} == set(range(MIN_WORDS, MAX_WORDS + 1))
    assert {c for p in samples for c in p if c in MARKS} == set(MARKS)
    capital_at = {next(i for i, w in enumerate(_words(p)) if w != w.lower()) for p in samples}
    assert capital_at == set(range(MAX_WORDS))
    number_at = {next(i for i, t in enumerate(p.split(" ")) if t.rstrip(MARKS).isdigit()) for p in samples}
    assert number_at == set(range(MAX_WORDS + 1))
    assert len({w.lower() for p in samples for w in _words(p)}) > len(WORDS) * 0.9


def _toy() -> ModuleType:
    spec = importlib.util.spec_from_file_location("toy_adapter_for_passphrases",
                                                  ROOT / "docs" / "examples" / "toy_adapter.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _builds() -> Iterator[tuple[str, KeysCapability]]:
    for name, keys in (("reference", reference_build().keys), ("toy", _toy().build().keys)):
        assert isinstance(keys, KeysCapability)
        yield name, keys


@pytest.mark.parametrize("build_name", ["reference", "toy"])
def test_builds_accept_the_passphrases_for_create_unlock_and_change(build_name: str, tmp_path: Path) -> None:
    keys = dict(_builds())[build_name]
    for round_number in range(3):
        first, second = passphrase(), passphrase()
        directory = tmp_path / f"keys-{round_number}"
        session = keys.create(directory, first, fast_kdf=True)
        sealed = session.seal("libsql", b"k", b"value")
        session.change_password(first, second)
        session.close()
        with pytest.raises(RejectedCredentials):
            keys.unlock(directory, first)
        session = keys.unlock(directory, second)
        assert session.open("libsql", b"k", sealed) == b"value"
        session.close()


@pytest.mark.parametrize("encode", [
    lambda p: p.encode(),
    lambda p: p.encode("utf-16-le"),
    lambda p: p.encode("utf-16-be"),
    lambda p: json.dumps({"pw": p}).encode(),
    lambda p: urllib.parse.quote(p, safe="").encode(),
    lambda p: urllib.parse.quote_plus(p).encode(),
    lambda p: p.encode().hex().encode(),
], ids=["utf-8", "utf-16le", "utf-16be", "json", "url-%20", "url-plus", "hex"])
def test_leak_checks_find_a_passphrase_with_spaces_in_every_encoding(encode: Callable[[str], bytes],
                                                                     tmp_path: Path) -> None:
    phrase = passphrase()
    (tmp_path / "dump.bin").write_bytes(b"\x00junk before " + encode(phrase) + b" junk after\x00")
    result = find_leaks(tmp_path, canaries=[phrase])
    assert result.files_read == 1 and result.findings, f"{phrase!r} not found in its encoded form"


def test_text_search_finds_a_passphrase_as_its_bytes() -> None:
    phrase = passphrase()
    assert text_contains_secret(f"refused: {phrase}", {"password": phrase.encode()}) == ["password"]
    assert text_contains_secret(f"refused: {phrase.encode()!r}", {"password": phrase.encode()}) == ["password"]
    assert text_contains_secret("refused: wrong password", {"password": phrase.encode()}) == []


def test_generator_draws_from_the_system_random_source() -> None:
    """``secrets``, never ``random``: a seeded generator would make the suite's passwords guessable."""
    source = Path(passphrases.__file__).read_text()
    assert "import secrets" in source and "import random" not in source
