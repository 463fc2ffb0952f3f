"""Every literal encoding the inspector claims, planted in a realistic file, must be found as that encoding."""

from __future__ import annotations

import base64
import json
import os
import urllib.parse
from pathlib import Path

import pytest

from verification.inspector.conftest import Inspect, hits


def _b64(data: bytes, urlsafe: bool) -> bytes:
    return base64.urlsafe_b64encode(data) if urlsafe else base64.b64encode(data)


@pytest.mark.parametrize("encoding,codec", [("utf-8", "utf-8"), ("utf-16le", "utf-16-le"), ("utf-16be", "utf-16-be")])
def test_text_encodings_in_a_log_file(tmp_path: Path, inspect: Inspect, canary: str, encoding: str, codec: str) -> None:
    line = f"2026-11-29 12:00:01 DEBUG memory saved: {canary}\n"
    (tmp_path / "app.log").write_bytes(("INFO started\n" * 50 + line + "INFO stopped\n").encode(codec))
    result = inspect(canaries=[canary])
    assert ("app.log", encoding) in [(n, e) for n, e, _c in hits(result, "canary:")]


def test_json_escaped_canary_in_a_json_export(tmp_path: Path, inspect: Inspect, canary: str) -> None:
    (tmp_path / "export.json").write_text(json.dumps({"messages": [{"text": canary}]}), encoding="ascii")
    result = inspect(canaries=[canary])
    assert ("export.json", "json-escaped", "json") in hits(result, "canary:")


def test_json_escaped_with_uppercase_escapes(tmp_path: Path, inspect: Inspect, canary: str) -> None:
    escaped = json.dumps(canary)[1:-1].replace("\\u00fc", "\\u00FC").replace("\\u00df", "\\u00DF")
    (tmp_path / "dump.json").write_text('{"m": "' + escaped + '"}', encoding="ascii")
    assert ("dump.json", "json-escaped", "json") in hits(inspect(canaries=[canary]), "canary:")


@pytest.mark.parametrize("quote", [urllib.parse.quote, urllib.parse.quote_plus])
def test_url_encoded_canary_in_an_access_log(tmp_path: Path, inspect: Inspect, canary: str, quote: object) -> None:
    encoded = quote(canary, safe="")  # type: ignore[operator]
    (tmp_path / "access.log").write_text(f'127.0.0.1 - - "GET /api/search?q={encoded}&k=5 HTTP/1.1" 200\n')
    assert ("access.log", "url-encoded", "text") in hits(inspect(canaries=[canary]), "canary:")


@pytest.mark.parametrize("upper", [False, True])
def test_hex_canary_in_a_debug_dump(tmp_path: Path, inspect: Inspect, canary: str, upper: bool) -> None:
    text = canary.encode().hex()
    (tmp_path / "dump.txt").write_text("payload=" + (text.upper() if upper else text) + "\n")
    assert ("dump.txt", "HEX" if upper else "hex", "text") in hits(inspect(canaries=[canary]), "canary:")


@pytest.mark.parametrize("urlsafe", [False, True])
@pytest.mark.parametrize("shift", [0, 1, 2])
def test_base64_canary_at_every_alignment(tmp_path: Path, inspect: Inspect, canary: str, shift: int,
                                          urlsafe: bool) -> None:
    # A record whose body is base64 of "<prefix><canary><suffix>": the canary starts at offset shift mod 3.
    body = os.urandom(30 + shift) + canary.encode() + os.urandom(17)
    (tmp_path / "blob.json").write_bytes(b'{"body": "' + _b64(body, urlsafe) + b'"}')
    found = {e for n, e, _c in hits(inspect(canaries=[canary]), "canary:") if n == "blob.json"}
    assert f"{'base64url' if urlsafe else 'base64'}/align{shift}" in found


@pytest.mark.parametrize("form", ["raw", "hex", "HEX", "base64", "base64url"])
def test_key_material_in_every_form(tmp_path: Path, inspect: Inspect, key: bytes, form: str) -> None:
    if form == "raw":
        (tmp_path / "core.dump").write_bytes(os.urandom(4097) + key + os.urandom(999))
    elif form in ("hex", "HEX"):
        text = key.hex().upper() if form == "HEX" else key.hex()
        (tmp_path / "settings.ini").write_text(f"[db]\nkey = {text}\n")
    else:
        for shift in range(3):
            encoded = _b64(os.urandom(shift) + key + os.urandom(5), form == "base64url").decode()
            (tmp_path / f"config{shift}.json").write_text(json.dumps({"secret": encoded}))
    result = inspect(keys=[("master", key)])
    found = [f for f in result.findings if f.label == "key:master"]
    assert found, f"key as {form} not found"
    if form.startswith("base64"):
        assert {Path(f.path).name for f in found} == {"config0.json", "config1.json", "config2.json"}
    else:
        assert form in {f.encoding.split("/")[0] for f in found}


def test_findings_name_keys_but_never_show_them(tmp_path: Path, inspect: Inspect, key: bytes) -> None:
    (tmp_path / "leak.log").write_text(f"key={key.hex()}\n")
    result = inspect(keys=[("dek:libsql", key)])
    text = repr(result) + "".join(repr(f) for f in result.findings)
    assert result.findings and result.findings[0].label == "key:dek:libsql"
    assert key.hex() not in text and key.hex().upper() not in text and repr(key) not in text
