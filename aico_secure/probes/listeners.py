"""What the operating system says is listening: TCP sockets in LISTEN state and bound UNIX sockets, via psutil.

Why not trust the build: a build reports its endpoints through the contract, and a build that binds
``tcp://*`` may still report ``127.0.0.1``. The OS socket table, matched to the processes that own each socket,
shows where each listener really accepts connections. psutil reads it on every platform AICO runs on (Linux,
macOS, Windows), so the probe is not tied to ``/proc``.

Fail closed: when a socket table cannot be read (``psutil.AccessDenied``: another user's process in the tree,
a platform where the system-wide table needs privileges and no fallback applies), the probe raises
``ListenerProbeUnavailable``. A caller reports that as "could not probe", which fails the requirement; it never
returns a partial list as if it were complete.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import psutil

if TYPE_CHECKING:
    from psutil._ntuples import pconn, sconn


class ListenerProbeUnavailable(RuntimeError):
    """The socket table could not be read completely: the bind check cannot run (and must not pass)."""


@dataclass(frozen=True)
class Listener:
    """One listening TCP socket: where it accepts connections and (when the OS says) which process owns it."""

    host: str
    port: int
    pid: int | None = None

    @property
    def loopback(self) -> bool:
        return ipaddress.ip_address(self.host).is_loopback


def _host(ip: str) -> str:
    """``::ffff:127.0.0.1`` is an IPv4 listener on a dual-stack socket: judge it as the IPv4 address."""
    addr = ipaddress.ip_address(ip.split("%", 1)[0])
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return str(addr.ipv4_mapped)
    return str(addr)


def _listeners(rows: Iterable[sconn | pconn], pid: int | None) -> list[Listener]:
    found = []
    for row in rows:
        if row.status != psutil.CONN_LISTEN or row.type != socket.SOCK_STREAM or not row.laddr:
            continue
        owner = getattr(row, "pid", None) if pid is None else pid
        found.append(Listener(_host(row.laddr.ip), int(row.laddr.port), owner))
    return found


def process_tree(pid: int | None = None) -> list[int]:
    """``pid`` (default: this process) and all its descendants (a build's broker may run in either)."""
    try:
        root = psutil.Process(pid or os.getpid())
        return [root.pid, *(child.pid for child in root.children(recursive=True))]
    except psutil.AccessDenied as exc:
        raise ListenerProbeUnavailable(f"cannot list the children of process {pid}: access denied") from exc
    except psutil.NoSuchProcess as exc:
        raise ListenerProbeUnavailable(f"process {pid} does not exist") from exc


def _connections(pid: int, kind: str) -> list[pconn]:
    """One process's sockets; a process that exited meanwhile has none. Access denied is never "none"."""
    try:
        return psutil.Process(pid).net_connections(kind=kind)
    except psutil.NoSuchProcess:
        return []
    except psutil.AccessDenied as exc:
        raise ListenerProbeUnavailable(
            f"cannot read the sockets of process {pid} (access denied): its listeners cannot be checked") from exc


def listeners_of(pids: Iterable[int]) -> list[Listener]:
    """TCP listeners owned by these processes; raises ``ListenerProbeUnavailable`` if any one is unreadable."""
    return [entry for pid in pids for entry in _listeners(_connections(pid, "tcp"), pid)]


def own_listeners() -> list[Listener]:
    """TCP listeners owned by this process or its descendants."""
    return listeners_of(process_tree())


def tcp_listeners() -> list[Listener]:
    """Every TCP listener the OS shows this process: the system-wide table where it is readable unprivileged
    (Linux, Windows), otherwise (macOS without root) the listeners of this process tree, which is where a build
    started by the suite runs. A listener outside both is not seen; the callers require the ones they expect to
    be found, so a miss fails rather than passes."""
    try:
        return _listeners(psutil.net_connections(kind="tcp"), None)
    except psutil.AccessDenied:
        return own_listeners()


def listeners_on_ports(ports: set[int]) -> list[Listener]:
    return [entry for entry in tcp_listeners() if entry.port in ports]


def unix_socket_paths(pids: Iterable[int] | None = None) -> set[str]:
    """Named UNIX sockets (ZeroMQ ``ipc://``) bound by these processes (default: this process tree).

    Abstract names come back as ``@name`` (psutil's and ZeroMQ's spelling); unnamed socket pairs are skipped.
    """
    paths = set()
    for pid in process_tree() if pids is None else pids:
        for row in _connections(pid, "unix"):
            name: object = row.laddr  # a str for UNIX sockets (the stubs only describe inet rows)
            if isinstance(name, str) and name:
                paths.add(name)
    return paths
