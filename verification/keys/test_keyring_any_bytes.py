"""Property: whatever bytes sit in the keyring file, ``aico-secure keyring`` answers with an exit code and one
line, and never changes the file unless it was a valid keyring and the command succeeded.

Inputs are random bytes, mutations (flipped, cut, inserted or replaced bytes) of a real keyring, and real keyrings
with one value replaced by hostile JSON (nesting 120k deep, integers past Python's conversion limit, NaN and
infinities), so examples reach JSON parsing, the schema, canonical-form, verifier and MAC checks. The CLI runs
in-process through its real entry point (``aico_secure.cli.main.main``), so an uncaught exception fails the test
as the traceback a user would see.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aico_secure.cli.main import main
from aico_secure.errors import AicoSecureError
from aico_secure.keys import Keyring, keyring_file

PASSWORD = "any-bytes-password"
ACTIONS = (["info"], ["check"], ["rotate", "--dek", "libsql"], ["rotate", "--master"], ["change-password"])


@functools.cache
def template() -> bytes:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "keyring.json"
        keyring = Keyring.create(path, PASSWORD, profile="test", purposes=["libsql", "audit"])
        keyring.advance_counter("audit-log:00", 3)
        return path.read_bytes()


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(template())
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(data)))
        how = draw(st.sampled_from(["flip", "cut", "insert", "replace"]))
        if how == "flip" and at < len(data):
            data[at] ^= draw(st.integers(1, 255))
        elif how == "cut":
            del data[at:at + draw(st.integers(1, 64))]
        elif how == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        else:
            data[at:at + 8] = draw(st.sampled_from([b"1" * 5000, b"[" * 3000, b"\xff\xfe", b"null", b"-1", b'"']))
    return bytes(data)


PLACEHOLDER = b'"@@hostile@@"'
FIELDS = (("format_version",), ("kdf", "time_cost"), ("kdf", "memory_kib"), ("kdf", "salt"), ("keks", "libsql"),
          ("counters", "audit-log:00"), ("verifier",), ("mac",), ("test_only",), ("warning",), ("deks", "libsql"))


@st.composite
def hostile_field(draw: st.DrawFn) -> bytes:
    """A real keyring with one value replaced by hostile JSON: deep nesting, huge numbers, odd literals."""
    document = json.loads(template())
    *parents, leaf = draw(st.sampled_from(FIELDS))
    node = document
    for name in parents:
        node = node[name]
    node[leaf] = PLACEHOLDER.decode().strip('"')
    depth = draw(st.sampled_from([50, 5_000, 120_000]))
    fragment = draw(st.one_of(
        st.sampled_from([b"[" * depth + b"]" * depth, b'{"a":' * depth + b"0" + b"}" * depth]),
        st.integers(1, 6000).map(lambda n: b"9" * n),
        st.sampled_from([b"-" + b"9" * 5000, b"1e999", b"-1e999", b"NaN", b"Infinity", b"-0", b"1.0", b"true",
                         b"null", b'"\\ud800"', b'"\\u0000"', b"{}", b"[]", str(2**63).encode(), b"-1"]),
    ))
    return keyring_file.serialize(document).replace(PLACEHOLDER, fragment)


@contextlib.contextmanager
def password_env() -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in ("AICO_SECURE_PASSWORD", "AICO_SECURE_NEW_PASSWORD")}
    os.environ["AICO_SECURE_PASSWORD"] = PASSWORD
    os.environ["AICO_SECURE_NEW_PASSWORD"] = PASSWORD + "-new"
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def is_valid_keyring(content: bytes, directory: Path) -> bool:
    probe = directory / "probe.json"
    probe.write_bytes(content)
    try:
        Keyring.unlock(probe, PASSWORD)
        return True
    except AicoSecureError:
        return False


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow], deadline=None)
@given(content=st.one_of(st.binary(max_size=4096), st.just(b""), mutated(), hostile_field()),
       action=st.sampled_from(ACTIONS))
def test_any_bytes_in_the_keyring_file(tmp_path_factory: pytest.TempPathFactory, content: bytes,
                                       action: list[str]) -> None:
    directory = tmp_path_factory.mktemp("any")
    path = directory / "keyring.json"
    path.write_bytes(content)
    out, err = io.StringIO(), io.StringIO()
    with password_env(), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["keyring", action[0], str(directory), *action[1:]])
    if code == 0:
        assert err.getvalue() == ""
        if path.read_bytes() != content:
            assert action[0] in ("rotate", "change-password")
            assert is_valid_keyring(content, directory), "a command rewrote a keyring that was not valid"
        return
    assert code in (1, 2), code
    lines = err.getvalue().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("aico-secure keyring:"), err.getvalue()
    assert PASSWORD not in err.getvalue()
    assert path.read_bytes() == content, "a refused command changed the file"


def test_the_template_itself_is_accepted(tmp_path: Path) -> None:
    """The mutations start from a keyring every command accepts, so the property is not vacuous."""
    for action in ACTIONS:
        (tmp_path / "keyring.json").write_bytes(template())
        with password_env(), contextlib.redirect_stdout(io.StringIO()):
            assert main(["keyring", action[0], str(tmp_path), *action[1:]]) == 0
