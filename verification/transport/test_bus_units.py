"""Allowlist, key files and endpoint rules of the reference bus."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
import zmq

from aico_secure.transport.bus import keys
from aico_secure.transport.bus.allowlist import FILE_NAME, Allowlist
from aico_secure.transport.bus.broker import Broker, BrokerConfig
from aico_secure.transport.bus.endpoints import connect_form, is_loopback_endpoint
from aico_secure.transport.errors import BusConfigError, UnknownComponentError


def test_key_files_are_private_and_round_trip(tmp_path: Path) -> None:
    pair = keys.generate()
    public_path, secret_path = keys.write_keypair(pair, tmp_path, "memory")
    assert stat.S_IMODE(os.stat(secret_path).st_mode) == 0o600
    assert pair.secret.reveal() not in public_path.read_bytes()
    loaded = keys.load_keypair(secret_path)
    assert loaded.public == pair.public and loaded.secret == pair.secret
    assert zmq.auth.load_certificate(str(public_path))[0] == pair.public  # readable by ZeroMQ's own tools
    assert pair.secret.reveal().decode() not in repr(pair)


def test_world_readable_secret_key_file_is_refused(tmp_path: Path) -> None:
    _pub, secret_path = keys.write_keypair(keys.generate(), tmp_path, "memory")
    secret_path.chmod(0o644)
    with pytest.raises(BusConfigError):
        keys.load_keypair(secret_path)


def test_mismatched_key_file_is_refused(tmp_path: Path) -> None:
    a, b = keys.generate(), keys.generate()
    _pub, secret_path = keys.write_keypair(keys.CurveKeyPair(a.public, b.secret), tmp_path, "mixed")
    with pytest.raises(BusConfigError):
        keys.load_keypair(secret_path)


def test_allowlist_rotation_and_revocation(tmp_path: Path) -> None:
    allow = Allowlist(tmp_path / FILE_NAME)
    k1, k2 = keys.generate().public, keys.generate().public
    first = allow.enroll("memory", k1, ["memory."], [])
    assert allow.by_key(k1) == first and allow.by_user_id(first.user_id) == first
    second = allow.replace_key("memory", k2)
    assert allow.by_key(k1) is None, "the old key is still admitted after rotation"
    assert allow.by_user_id(first.user_id) is None, "sessions of the old key still map to an enrollment"
    assert allow.by_key(k2) == second and second.publish == ("memory.",)
    allow.revoke("memory")
    assert allow.by_key(k2) is None and allow.by_user_id(second.user_id) is None
    reloaded = Allowlist(tmp_path / FILE_NAME)
    assert reloaded.by_key(k2) is None and reloaded.components()[0].revoked
    assert stat.S_IMODE(os.stat(tmp_path / FILE_NAME).st_mode) == 0o600


def test_allowlist_refuses_duplicates_and_unknowns(tmp_path: Path) -> None:
    allow = Allowlist()
    key = keys.generate().public
    allow.enroll("memory", key, [], [])
    with pytest.raises(BusConfigError):
        allow.enroll("memory", keys.generate().public, [], [])
    with pytest.raises(BusConfigError):
        allow.enroll("other", key, [], [])
    with pytest.raises(UnknownComponentError):
        allow.replace_key("ghost", keys.generate().public)
    with pytest.raises(BusConfigError):
        allow.enroll("Bad Name", keys.generate().public, [], [])


def test_damaged_allowlist_is_refused(tmp_path: Path) -> None:
    (tmp_path / FILE_NAME).write_text("{not json")
    with pytest.raises(BusConfigError):
        Allowlist(tmp_path / FILE_NAME)


@pytest.mark.parametrize(("endpoint", "loopback"), [
    ("tcp://127.0.0.1:5555", True), ("tcp://[::1]:5555", True), ("ipc:///tmp/x.sock", True),
    ("tcp://localhost:1", True), ("tcp://0.0.0.0:5555", False), ("tcp://*:5555", False),
    ("tcp://[::]:5555", False), ("tcp://192.168.1.2:5555", False), ("tcp://eth0:5555", False),
    ("udp://127.0.0.1:1", False), ("tcp://127.0.0.1", False),
])
def test_loopback_endpoint_rules(endpoint: str, loopback: bool) -> None:
    assert is_loopback_endpoint(endpoint) is loopback


def test_wildcard_bind_connects_on_loopback() -> None:
    assert connect_form("tcp://0.0.0.0:5555") == "tcp://127.0.0.1:5555"


@pytest.mark.parametrize("host", ["*", "0.0.0.0", "192.168.1.2", "::"])
def test_broker_refuses_non_loopback_bind(tmp_path: Path, host: str) -> None:
    with pytest.raises(BusConfigError):
        Broker(BrokerConfig(tmp_path, host=host))


def test_broker_keeps_its_key_and_allowlist_across_restarts(tmp_path: Path) -> None:
    with Broker.start(BrokerConfig(tmp_path)) as first:
        server_key = first.server_keys.public
        first.enroll("memory", publish=["memory."])
    with Broker.start(BrokerConfig(tmp_path)) as second:
        assert second.server_keys.public == server_key
        assert [e.component for e in second.allowlist.components()] == ["memory"]
        assert second.is_alive()


def test_broker_over_ipc(tmp_path: Path) -> None:
    short = Path("/tmp") / f"aico-ipc-{os.getpid()}"  # unix socket paths are limited to ~100 bytes
    try:
        with Broker.start(BrokerConfig(short, transport="ipc")) as broker:
            assert all(e.startswith("ipc://") for e in broker.bound_endpoints())
            assert is_loopback_endpoint(broker.publish_endpoint)
    finally:
        for p in sorted(short.rglob("*"), reverse=True):
            p.unlink() if not p.is_dir() else p.rmdir()
        short.rmdir()
