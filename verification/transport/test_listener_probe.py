"""The listener probe (psutil): real sockets in this process and in a child, and fail closed when a process's
sockets cannot be read.

The regression this guards: the old probe read ``/proc/<pid>/fd`` and skipped a process it was not allowed to
read, so a wildcard listener in that process was simply not in the list and the bind check passed.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import zmq

from aico_secure.probes.listeners import (
    Listener,
    ListenerProbeUnavailable,
    listeners_of,
    own_listeners,
    process_tree,
    tcp_listeners,
    unix_socket_paths,
)

ROOT = Path(__file__).resolve().parents[2]
# A child that listens on every interface and on loopback, prints both ports, then waits to be killed.
LISTENING_CHILD = """\
import socket, sys, time
wide = socket.create_server(("0.0.0.0", 0))
local = socket.create_server(("127.0.0.1", 0))
print(wide.getsockname()[1], local.getsockname()[1], flush=True)
sys.stdin.read()
"""


@pytest.fixture
def listening_child() -> Iterator[tuple[subprocess.Popen[str], int, int]]:
    child = subprocess.Popen([sys.executable, "-c", LISTENING_CHILD], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             text=True)
    try:
        assert child.stdout is not None
        wide, local = map(int, child.stdout.readline().split())
        yield child, wide, local
    finally:
        child.kill()
        child.wait(10)


def test_listeners_of_a_child_process_are_seen_with_their_real_address(
        listening_child: tuple[subprocess.Popen[str], int, int]) -> None:
    child, wide, local = listening_child
    assert child.pid in process_tree()
    mine = {(x.port, x.host, x.pid) for x in own_listeners()}
    assert (wide, "0.0.0.0", child.pid) in mine and (local, "127.0.0.1", child.pid) in mine
    system = {(x.port, x.loopback) for x in tcp_listeners()}
    assert (wide, False) in system and (local, True) in system


def test_ipv6_and_dual_stack_listeners() -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6 on this machine")
    try:
        dual = socket.create_server(("::", 0), family=socket.AF_INET6, dualstack_ipv6=True)
        loop6 = socket.create_server(("::1", 0), family=socket.AF_INET6)
    except OSError as exc:
        pytest.skip(f"cannot bind IPv6 here: {exc}")
    with dual, loop6:
        found = {x.port: x for x in listeners_of([os.getpid()])}
        assert found[dual.getsockname()[1]].host == "::" and not found[dual.getsockname()[1]].loopback
        assert found[loop6.getsockname()[1]].loopback


def test_ipv4_mapped_addresses_are_judged_as_ipv4() -> None:
    assert Listener("127.0.0.1", 1).loopback and not Listener("0.0.0.0", 1).loopback


def test_bound_ipc_sockets_are_seen(tmp_path: Path) -> None:
    ctx: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
    try:
        named, abstract = ctx.socket(zmq.XPUB), ctx.socket(zmq.XPUB)
        named.bind(f"ipc://{tmp_path / 'bus.sock'}")
        abstract.bind(f"ipc://@aico-listener-test-{os.getpid()}")
        paths = unix_socket_paths()
        assert str(tmp_path / "bus.sock") in paths
        assert f"@aico-listener-test-{os.getpid()}" in paths
    finally:
        ctx.destroy(0)


def test_a_process_that_exited_has_no_listeners() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait(10)
    assert listeners_of([child.pid]) == []


# Run as an unprivileged user: try to read the listeners of the (root-owned) parent process tree.
UNPRIVILEGED_CHILD = """\
import sys
from aico_secure.probes.listeners import ListenerProbeUnavailable, listeners_of
try:
    found = listeners_of([int(sys.argv[1])])
except ListenerProbeUnavailable as exc:
    print("could not probe:", exc)
else:
    print("listed", len(found))
"""


def _unprivileged_user() -> int:
    if os.geteuid() != 0:
        pytest.skip("needs root to start a process as another user (the case: the probe cannot read the build)")
    try:
        import pwd

        return pwd.getpwnam("nobody").pw_uid
    except (ImportError, KeyError):
        pytest.skip("no 'nobody' user to run the unprivileged probe as")


def test_a_process_whose_sockets_cannot_be_read_is_could_not_probe(
        listening_child: tuple[subprocess.Popen[str], int, int]) -> None:
    """The probe runs unprivileged, the build's broker belongs to another user: the bind check cannot see its
    sockets, and says so instead of returning the listeners it could read."""
    uid = _unprivileged_user()
    child, wide, _local = listening_child
    assert psutil.Process(child.pid).uids().real == 0
    proc = subprocess.run([sys.executable, "-c", UNPRIVILEGED_CHILD, str(child.pid)], user=uid, cwd="/",
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
                          env={**os.environ, "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.startswith("could not probe:"), f"{proc.stdout!r}: the wildcard listener {wide} went unseen"
    assert "access denied" in proc.stdout


def test_process_tree_of_a_missing_process_is_could_not_probe() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait(10)
    time.sleep(0.05)
    with pytest.raises(ListenerProbeUnavailable):
        process_tree(child.pid)
