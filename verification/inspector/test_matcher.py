"""The fast paths of the scan find exactly what the plain ones find.

The literal search locates candidates with truncated anchors in Teddy groups and re-reads only those places;
entropy uses a table of ``p log2 p`` terms; Z85 forms come from base85 with renamed digits; chance zlib headers
are refused before zlib is started. Each is checked
here against the direct computation it replaces, on inputs built to hit their edge cases (needles sharing a
prefix, overlapping and adjacent matches, matches hidden inside a longer one, short magic numbers).
"""

from __future__ import annotations

import os
import random
import zlib

import ahocorasick_rs
import numpy as np
import pytest
from zmq.utils import z85

from aico_secure.inspector._detector import default_detectors
from aico_secure.inspector._detector.compressed import MAGICS, PROBE_OUT, _first_block_refused, _inflates
from aico_secure.inspector._detector.entropy import BLOCK, SAMPLE, block_entropy, sampled_entropies
from aico_secure.inspector.encodings import z85_encode
from aico_secure.inspector.needles import Needles, Pattern
from aico_secure.inspector.scan import _Matcher, _self_contained

MAGICS_ZLIB = [magic for fmt, magic in MAGICS if fmt == "zlib"]


def _reference(needles: list[bytes], data: bytes) -> list[tuple[int, int, int]]:
    full = ahocorasick_rs.BytesAhoCorasick(needles)
    return sorted(set(full.find_matches_as_indexes(data, overlapping=True)), key=lambda h: (h[1], h[2], h[0]))


def _patterns(needles: list[bytes]) -> list[Pattern]:
    return [Pattern(f"p{i}", "raw", n) for i, n in enumerate(needles)]


def _planted(rng: random.Random, needles: list[bytes], size: int, count: int) -> bytes:
    data = bytearray(rng.randbytes(size))
    for _ in range(count):
        needle = rng.choice(needles)
        at = rng.randrange(0, size - len(needle))
        data[at:at + len(needle)] = needle
    return bytes(data)


@pytest.mark.parametrize("seed", range(6))
def test_grouped_search_finds_every_overlapping_match(seed: int) -> None:
    rng = random.Random(seed)
    stem = b"canary-" + rng.randbytes(4).hex().encode()
    needles = sorted({stem + bytes([c]) * rng.randrange(1, 30) for c in b"abcdefgh"}  # shared 8-byte prefixes
                     | {rng.randbytes(rng.randrange(2, 40)) for _ in range(150)}
                     | {b"\x78\x9c", b"\x78\x01", b"BZh", b"aaaa", b"aaaaaaaaaaaa", b"abab", b"ababababab"})
    matcher = _Matcher(_patterns(needles))
    assert len(matcher._groups) > 1  # the grouped path, not the single overlapping pass
    data = _planted(rng, needles, 1 << 16, 400) + b"a" * 40 + b"ab" * 30 + stem + b"h" * 29 + stem
    expect = _reference(needles, data)
    got = [(needles.index(matcher.needles[i]), s, e) for i, s, e in matcher.hits(memoryview(data))]
    assert sorted(got, key=lambda h: (h[1], h[2], h[0])) == expect
    assert len(expect) > 400


def test_grouped_search_on_the_default_detectors_patterns() -> None:
    """The real pattern set (canary and key forms, magic numbers), planted densely, some overlapping."""
    rng = random.Random(7)
    needles_in = Needles.build([f"canary-{rng.randbytes(5).hex()}-Grüße" for _ in range(8)], (),
                               [("k", rng.randbytes(32))])
    patterns = [p for d in default_detectors() for p in d.prepare(needles_in)]
    matcher = _Matcher(patterns)
    assert matcher._groups
    data = _planted(rng, matcher.needles, 1 << 18, 3000)
    expect = _reference(matcher.needles, data)
    assert matcher.hits(memoryview(data)) == expect


@pytest.mark.parametrize(("needles", "data", "contained"), [
    ([b"x\x9c", b"\x9cAB"], b"..x\x9cAB..x\x9c..", {b"\x9cAB"}),  # a needle starts inside the magic
    ([b"QQ", b"zz"], b"QQQQQ.zzz", set()),  # overlapping with itself
    ([b"ab", b"abcdef"], b"abcdef.ab.abcde", set()),  # a prefix of another needle
    ([b"abc", b"b", b"xyz"], b"abc.b.xyz", {b"b", b"xyz"}),  # a needle inside another
    ([b"x\x01", b"BZh"], b"x\x01x\x01.BZhBZh", {b"x\x01", b"BZh"}),
    ([b"bench-canary-1", b"bench-ca", b"nary"], b"bench-canary-1.bench-ca", {b"nary"}),  # anchor shared, infix
])
def test_self_contained_anchors(needles: list[bytes], data: bytes, contained: set[bytes]) -> None:
    assert set(_self_contained(needles)) == contained
    matcher = _Matcher(_patterns(needles))
    assert matcher.hits(memoryview(data)) == _reference(needles, data)


def test_many_needles_take_the_single_pass() -> None:
    rng = random.Random(3)
    needles = sorted({rng.randbytes(12) for _ in range(_Matcher.SINGLE_PASS_OVER + 10)})
    matcher = _Matcher(_patterns(needles))
    assert not matcher._groups
    data = _planted(rng, needles, 1 << 15, 200)
    assert matcher.hits(memoryview(data)) == _reference(needles, data)


def _direct_entropies(data: bytes) -> list[float]:
    """Each block's entropy from its first SAMPLE bytes, computed the obvious way."""
    values = []
    for start in range(0, len(data), BLOCK):
        block = data[start:start + BLOCK]
        if len(block) == BLOCK:
            counts = np.bincount(np.frombuffer(block[:SAMPLE], dtype=np.uint8), minlength=256)
            p = counts / SAMPLE
            with np.errstate(divide="ignore", invalid="ignore"):
                values.append(float(-np.where(p > 0, p * np.log2(p), 0.0).sum()))
        else:
            values.append(block_entropy(block[:SAMPLE]))
    return values


@pytest.mark.parametrize("size", [0, 1, 100, SAMPLE, BLOCK - 1, BLOCK, BLOCK + 1, 5 * BLOCK + 4097])
def test_sampled_entropies_equal_the_direct_formula(size: int) -> None:
    rng = random.Random(size)
    for data in (rng.randbytes(size), bytes(size), bytes(rng.choice(b"etaoin \n") for _ in range(size))):
        assert sampled_entropies(memoryview(data)) == _direct_entropies(data)


def test_z85_matches_pyzmq() -> None:
    for size in (4, 8, 32, 64):
        for _ in range(50):
            data = os.urandom(size)
            assert z85_encode(data) == z85.encode(data)
    with pytest.raises(ValueError):
        z85_encode(b"abc")


def test_zlib_pre_check_agrees_with_zlib() -> None:
    """The cheap refusal of chance zlib headers refuses exactly what zlib itself refuses at once."""
    rng = random.Random(11)
    candidates = [magic + rng.randbytes(rng.choice([0, 1, 3, 5, 6, 40, 1022])) for magic in MAGICS_ZLIB
                  for _ in range(3000)]
    candidates += [b"\x78\x9c" + bytes([0b000]) + (5).to_bytes(2, "little") + (0xFFFA).to_bytes(2, "little") + b"x" * 5,
                   zlib.compress(b"stored block " * 10, level=0), zlib.compress(os.urandom(3000))]
    for data in candidates:
        try:
            zlib.decompressobj(zlib.MAX_WBITS).decompress(data, PROBE_OUT)
            direct = True
        except zlib.error:
            direct = False
        assert _inflates(memoryview(data), "zlib") == direct, data[:8]
    assert sum(_first_block_refused(memoryview(c)[2:]) for c in candidates) > len(candidates) // 3
