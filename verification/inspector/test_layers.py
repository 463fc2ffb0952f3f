"""Nothing stops looking silently: a canary under any stack of the codecs and containers the inspector decodes
is found, or the file is reported not fully inspected. Never clean."""

from __future__ import annotations

import base64
import bz2
import gzip
import io
import json
import lzma
import os
import random
import secrets
import shutil
import tarfile
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import cramjam
import lz4.frame
import pytest
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aico_secure.cli.main import main
from aico_secure.inspector import Limits, inspect_tree


def _zip(method: int) -> Callable[[bytes], bytes]:
    def wrap(data: bytes) -> bytes:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", method) as archive:
            archive.writestr("member.bin", data)
        return out.getvalue()

    return wrap


def _tar(mode: str) -> Callable[[bytes], bytes]:
    def wrap(data: bytes) -> bytes:
        out = io.BytesIO()
        with tarfile.open(fileobj=out, mode=mode) as archive:  # type: ignore[call-overload]
            info = tarfile.TarInfo("member.bin")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        return out.getvalue()

    return wrap


def _raw_deflate(data: bytes) -> bytes:
    co = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return co.compress(data) + co.flush()


CODECS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": gzip.compress, "zlib": zlib.compress, "bzip2": bz2.compress, "xz": lzma.compress,
    "lzma-alone": lambda d: lzma.compress(d, format=lzma.FORMAT_ALONE),
    "zstd": lambda d: zstandard.ZstdCompressor().compress(d), "lz4-frame": lz4.frame.compress,
    "snappy-framed": lambda d: bytes(cramjam.snappy.compress(d)),
    "zip-deflated": _zip(zipfile.ZIP_DEFLATED), "zip-stored": _zip(zipfile.ZIP_STORED),
    "zip-lzma": _zip(zipfile.ZIP_LZMA), "zip-bzip2": _zip(zipfile.ZIP_BZIP2),
    "tar": _tar("w"), "tar.gz": _tar("w:gz"), "tar.bz2": _tar("w:bz2"), "tar.xz": _tar("w:xz"),
}
# Outermost only: a raw deflate stream is recognised as a whole file (it has no magic of its own).
WHOLE_FILE = {"deflate-raw": _raw_deflate}


def _canary() -> str:
    return f"layer-canary-{secrets.token_hex(6)}"


def _scan(root: Path, canary: str, data: bytes) -> tuple[bool, bool, list[str]]:
    (root / "data.bin").write_bytes(data)
    result = inspect_tree(root, canaries=[canary])
    reasons = [result.unreadable_reasons[u] for u in result.unreadable]
    return bool(result.findings), result.clean, reasons


@pytest.mark.parametrize("depth", [1, 2, 3, 4, 5, 8])
def test_a_canary_under_n_layers_of_gzip_is_found(tmp_path: Path, depth: int) -> None:
    canary = _canary()
    data = f"{canary} said the note. ".encode() * 20  # compressible: no layer stores the one inside it verbatim
    for _ in range(depth):
        data = gzip.compress(data)
    found, clean, _reasons = _scan(tmp_path, canary, data)
    assert found and not clean


def test_nesting_beyond_the_limit_is_reported_not_clean_and_exits_2(tmp_path: Path) -> None:
    canary = "deep-canary-" + secrets.token_hex(4)
    data = canary.encode() * 50  # compressible: the innermost layer holds no literal copy of the canary
    for _ in range(Limits().max_depth + 3):
        data = gzip.compress(data)
    found, clean, reasons = _scan(tmp_path, canary, data)
    assert not clean and not found
    assert any("nested more than 8 levels deep" in r for r in reasons), reasons
    assert main(["inspect", str(tmp_path), "--canary", canary]) == 2


@pytest.mark.parametrize("codec", sorted(CODECS) + sorted(WHOLE_FILE))
def test_every_codec_and_container_is_decoded(tmp_path: Path, codec: str) -> None:
    canary = _canary()
    wrap = CODECS.get(codec) or WHOLE_FILE[codec]
    found, _clean, reasons = _scan(tmp_path, canary, wrap((canary + " ").encode() * 40))
    assert found and not reasons, (codec, reasons)


def test_a_nested_stream_longer_than_one_window_is_read_to_its_end(tmp_path: Path) -> None:
    """The inner stream is several decode chunks long; the canary sits at its very end."""
    canary = _canary()
    inner = gzip.compress(os.urandom(3 << 20) + canary.encode())
    found, _clean, reasons = _scan(tmp_path, canary, gzip.compress(inner))
    assert found and not reasons


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(stack=st.lists(st.sampled_from(sorted(CODECS)), min_size=1, max_size=12),
       outer=st.sampled_from([None, *sorted(WHOLE_FILE)]), noise=st.binary(max_size=256))
def test_any_stack_of_codecs_is_found_or_reported_never_clean(tmp_path_factory: pytest.TempPathFactory,
                                                              stack: list[str], outer: str | None,
                                                              noise: bytes) -> None:
    root = tmp_path_factory.mktemp("stack")
    canary = _canary()
    data = noise + canary.encode() + noise
    for codec in stack:
        data = CODECS[codec](data)
    if outer is not None:
        data = WHOLE_FILE[outer](data)
    found, clean, reasons = _scan(root, canary, data)
    assert found or reasons, f"canary under {stack} + {outer} was neither found nor reported"
    assert not clean
    if len(stack) + (outer is not None) <= Limits().max_depth:
        assert found, (stack, outer, reasons)
    shutil.rmtree(root)


def test_a_truncated_stream_is_reported_with_what_it_held(tmp_path: Path) -> None:
    canary = _canary()
    stream = gzip.compress(canary.encode() + os.urandom(20000))
    found, clean, reasons = _scan(tmp_path, canary, stream[: len(stream) // 2])
    assert found and not clean
    assert any("truncated gzip stream" in r for r in reasons), reasons


def test_an_encrypted_zip_member_is_reported_not_inspectable(tmp_path: Path) -> None:
    data = bytearray(_zip(zipfile.ZIP_DEFLATED)(b"secret member " * 10))
    data[6] |= 0x01  # general purpose flag bit 0 of the local header: encrypted
    _found, clean, reasons = _scan(tmp_path, _canary(), bytes(data))
    assert not clean and any("encrypted ZIP member" in r for r in reasons), reasons


def test_a_zip_member_with_an_unsupported_method_is_reported(tmp_path: Path) -> None:
    data = bytearray(_zip(zipfile.ZIP_DEFLATED)(b"member " * 10))
    data[8] = 9  # deflate64
    _found, clean, reasons = _scan(tmp_path, _canary(), bytes(data))
    assert not clean and any("compression method 9" in r for r in reasons), reasons


@pytest.mark.parametrize("magic", [b"7z\xbc\xaf\x27\x1c", b"Rar!\x1a\x07\x01\x00", b"\x89LZO\x00\r\n\x1a\n",
                                   b"LZIP\x01"])
def test_a_container_the_inspector_does_not_decode_is_reported(tmp_path: Path, magic: bytes) -> None:
    _found, clean, reasons = _scan(tmp_path, _canary(), os.urandom(50) + magic + os.urandom(200))
    assert not clean and any("does not decode" in r for r in reasons), reasons


def test_random_bytes_with_chance_magic_numbers_stay_clean(tmp_path: Path) -> None:
    """A zlib, gzip or zstd header turning up in ciphertext is not a broken stream."""
    rng = bytes(os.urandom(4 << 20))
    _found, clean, reasons = _scan(tmp_path, _canary(), rng)
    assert clean and not reasons


@pytest.mark.parametrize("codec", ["gzip", "zlib", "bzip2", "xz", "lzma-alone", "zstd", "lz4-frame", "snappy-framed"])
def test_streams_back_to_back_are_each_decoded(tmp_path: Path, codec: str) -> None:
    """A decoder reads ahead of its stream's end; what it read past the end belongs to the next stream. And a
    stream found later in the file (a zlib tail) must not make earlier ones be skipped."""
    first, second = _canary(), _canary()
    wrap = CODECS[codec]
    data = wrap(first.encode() * 3) + wrap(second.encode() * 3) + zlib.compress(b"x" * 100)
    (tmp_path / "two.bin").write_bytes(data)
    result = inspect_tree(tmp_path, canaries=[first, second])
    assert {f.label for f in result.findings} == {f"canary:{first}", f"canary:{second}"}
    assert result.unreadable == []


TEXT_WRAPPERS: dict[str, Callable[[bytes], bytes]] = {
    "base64": base64.b64encode, "base64url": base64.urlsafe_b64encode, "base64-mime": base64.encodebytes,
    "hex": lambda d: d.hex().encode(), "HEX": lambda d: d.hex().upper().encode(),
}


@pytest.mark.parametrize("wrapper", sorted(TEXT_WRAPPERS))
@pytest.mark.parametrize("codec", ["gzip", "zlib", "zstd", "xz", "bzip2", "lz4-frame", "zip-deflated"])
def test_compressed_data_wrapped_in_text_is_decoded(tmp_path: Path, wrapper: str, codec: str) -> None:
    """``base64(zlib(value))`` in a JSON document: the canary is neither in clear nor in one of its forms."""
    canary = _canary()
    blob = TEXT_WRAPPERS[wrapper](CODECS[codec]((canary + " note ").encode() * 30)).decode()
    # MIME base64 is wrapped in lines: it lives in mail-like text, not in a JSON string
    document = f"Content-Transfer-Encoding: base64\n\n{blob}" if wrapper == "base64-mime" else json.dumps(
        {"id": 7, "value": blob})
    found, _clean, reasons = _scan(tmp_path, canary, document.encode())
    assert found and not reasons, (wrapper, codec, reasons)


def test_many_small_ciphertext_files_stay_clean(tmp_path: Path) -> None:
    """Each file end is a place where a chance magic number runs out of input: that is not a truncated stream."""
    rng = random.Random(1234)
    for i in range(1500):
        (tmp_path / f"c{i}.bin").write_bytes(rng.randbytes(rng.randint(64, 4096)))
    result = inspect_tree(tmp_path, canaries=[_canary()])
    assert result.clean, [result.unreadable_reasons[u] for u in result.unreadable][:5]
