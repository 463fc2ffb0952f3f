"""Every text encoding, key format and vector precision the AICO stack and its libraries write is found."""

from __future__ import annotations

import base64
import json
import os
import random
import re
import secrets
import urllib.parse
from pathlib import Path

import numpy as np
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, x25519
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from zmq.utils import z85

from aico_secure.inspector import inspect_tree


def _canary() -> str:
    return f"form-{secrets.token_hex(4)}-Grüße \"☃\" <tag> & 𝄞"


def _found(root: Path, data: bytes, **needles: object) -> set[str]:
    (root / "f.bin").write_bytes(os.urandom(37) + data + os.urandom(41))
    result = inspect_tree(root, **needles)  # type: ignore[arg-type]
    return {f.encoding for f in result.findings}


TEXT_FORMS = {
    "utf-32le": lambda t: t.encode("utf-32-le"),
    "utf-32be": lambda t: t.encode("utf-32-be"),
    "utf-32 with BOM": lambda t: t.encode("utf-32"),
    "utf-16 with BOM": lambda t: t.encode("utf-16"),
    "utf-16be with BOM": lambda t: b"\xfe\xff" + t.encode("utf-16-be"),
    "json ensure_ascii=False": lambda t: json.dumps({"note": t}, ensure_ascii=False).encode(),
    "json every char escaped": lambda t: ("".join(f"\\u{ord(c):04X}" for c in t.encode("utf-16-be").decode(
        "utf-16-be")) if all(ord(c) < 0x10000 for c in t) else json.dumps(t)).encode(),
    "percent lower-case": lambda t: re.sub(r"%[0-9A-F]{2}", lambda m: m.group().lower(),
                                           urllib.parse.quote(t, safe="")).encode(),
}


@pytest.mark.parametrize("form", sorted(TEXT_FORMS))
def test_text_forms(tmp_path: Path, form: str) -> None:
    canary = _canary()
    assert _found(tmp_path, TEXT_FORMS[form](canary), canaries=[canary]), form


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(min_size=6, max_size=40).filter(lambda t: len(t.encode()) >= 6),
       encoding=st.sampled_from(["utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"]))
def test_any_text_in_any_unicode_encoding(tmp_path_factory: pytest.TempPathFactory, text: str, encoding: str) -> None:
    root = tmp_path_factory.mktemp("uni")
    assert _found(root, text.encode(encoding, "surrogatepass"), canaries=[text])


def _key_files(key: bytes) -> dict[str, bytes]:
    private = x25519.X25519PrivateKey.from_private_bytes(key)
    return {
        "z85 (CurveZMQ)": b"curve-secret-key = \"" + z85.encode(key) + b"\"\n",
        "jwk": json.dumps({"kty": "OKP", "crv": "X25519",
                           "d": base64.urlsafe_b64encode(key).rstrip(b"=").decode()}).encode(),
        "pem pkcs8": private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()),
        "der pkcs8": private.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()),
        "openssh": ed25519.Ed25519PrivateKey.from_private_bytes(key).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()),
        "hex": key.hex().encode(), "base64": base64.b64encode(key),
    }


@pytest.mark.parametrize("form", sorted(_key_files(bytes(32))))
def test_key_formats(tmp_path: Path, form: str) -> None:
    key = os.urandom(32)
    assert _found(tmp_path, _key_files(key)[form], keys=[("k", key)]), form


def test_an_encrypted_pem_key_is_an_observation_not_a_finding(tmp_path: Path) -> None:
    key = os.urandom(32)
    pem = x25519.X25519PrivateKey.from_private_bytes(key).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"passphrase"))
    (tmp_path / "k.pem").write_bytes(pem)
    result = inspect_tree(tmp_path, keys=[("k", key)])
    assert result.clean and any("encrypted PEM" in o.detail for o in result.observations)


def _vector(seed: int) -> list[float]:
    rng = random.Random(seed)
    return [round(rng.uniform(0.05, 0.9) * rng.choice((-1, 1)), 6) for _ in range(48)]


def _bf16(values: np.ndarray, *, truncate: bool) -> bytes:
    bits = values.astype("<f4").view("<u4").astype(np.uint64)
    if not truncate:
        bits = bits + 0x7FFF + ((bits >> 16) & 1)
    return (bits >> 16).astype("<u2").tobytes()


PRECISIONS = {
    "float16": lambda v: v.astype("<f2").tobytes(),
    "float16 via float32": lambda v: v.astype("<f4").astype("<f2").tobytes(),
    "bfloat16": lambda v: _bf16(v, truncate=False),
    "bfloat16 truncated": lambda v: _bf16(v, truncate=True),
    "int8 absmax": lambda v: np.rint(v / np.abs(v).max() * 127).astype(np.int8).tobytes(),
    "int8 of the normalised vector": lambda v: np.rint((v / np.linalg.norm(v)) / np.abs(
        v / np.linalg.norm(v)).max() * 127).astype(np.int8).tobytes(),
    "uint8 min-max": lambda v: np.rint((v - v.min()) / (v.max() - v.min()) * 255).astype(np.uint8).tobytes(),
    "float32": lambda v: v.astype("<f4").tobytes(),
    "float64": lambda v: v.astype("<f8").tobytes(),
}


@pytest.mark.parametrize("precision", sorted(PRECISIONS))
def test_vector_precisions(tmp_path: Path, precision: str) -> None:
    vector = _vector(secrets.randbits(32))
    stored = PRECISIONS[precision](np.array(vector))
    result = _found(tmp_path, stored, vectors=[vector])
    assert result, precision


def test_low_precision_forms_are_reported_once_per_stored_vector(tmp_path: Path) -> None:
    vector = _vector(7)
    (tmp_path / "v.bin").write_bytes(np.array(vector).astype("<f2").tobytes())
    result = inspect_tree(tmp_path, vectors=[vector])
    assert [f.encoding for f in result.findings] == ["float16-le/exact"]


def test_random_bytes_match_no_low_precision_form(tmp_path: Path) -> None:
    (tmp_path / "r.bin").write_bytes(os.urandom(4 << 20))
    assert inspect_tree(tmp_path, vectors=[_vector(i) for i in range(5)]).clean
