"""The sync wire format and the device record file: bounded, typed, all-or-nothing."""

from __future__ import annotations

import json
import socket
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aico_secure.transport.errors import SyncError
from aico_secure.transport.sync.protocol import MAX_FRAME, decode_records, read_frame, write_frame
from aico_secure.transport.sync.records import RecordFile


def _frame_through_socket(data: bytes) -> dict[str, object]:
    a, b = socket.socketpair()
    with a, b:
        a.sendall(data)
        a.shutdown(socket.SHUT_WR)
        b.settimeout(2)
        return read_frame(b)


@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_crash_the_reader(data: bytes) -> None:
    try:
        _frame_through_socket(data)
    except SyncError:
        pass


def test_round_trip_and_bounds() -> None:
    a, b = socket.socketpair()
    with a, b:
        write_frame(a, {"op": "pull"})
        assert read_frame(b) == {"v": 1, "op": "pull"}
    with pytest.raises(SyncError):
        _frame_through_socket(struct.pack(">I", MAX_FRAME + 1))
    with pytest.raises(SyncError):
        _frame_through_socket(struct.pack(">I", 0))
    body = json.dumps({"v": 2}).encode()
    with pytest.raises(SyncError):
        _frame_through_socket(struct.pack(">I", len(body)) + body)


@pytest.mark.parametrize("records", [
    "not a list", [{"key": "k"}], [{"key": "", "value": ""}], [{"key": "k", "value": "!!"}],
    [{"key": "a b", "value": ""}], [{"key": "k", "value": "", "extra": 1}],
    [{"key": "k", "value": ""}, {"key": "k", "value": ""}],
])
def test_malformed_records_are_refused(records: object) -> None:
    with pytest.raises(SyncError):
        decode_records(records)


def test_record_file_is_private_and_persistent(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = RecordFile(tmp_path)
    store.put_many({"a": b"sealed-a", "b": b"sealed-b"})
    assert RecordFile(tmp_path).items() == [("a", b"sealed-a"), ("b", b"sealed-b")]
    assert oct((tmp_path / "records.json").stat().st_mode & 0o777) == "0o600"
    (tmp_path / "records.json").write_text("{broken")
    with pytest.raises(SyncError):
        RecordFile(tmp_path)
