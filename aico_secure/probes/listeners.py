"""What the kernel says is listening: TCP sockets in LISTEN state, read from ``/proc/net/tcp{,6}``.

Why not trust the build: a build reports its endpoints through the contract, and a build that binds
``tcp://*`` may still report ``127.0.0.1``. The kernel's table, matched to the sockets this process (and its
children) own, shows where each listener really accepts connections. Linux only; elsewhere the probe raises
``ListenerProbeUnavailable`` rather than pretending to have checked.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import struct
from dataclasses import dataclass
from pathlib import Path

_LISTEN = "0A"


class ListenerProbeUnavailable(RuntimeError):
    """This platform has no /proc socket tables: the bind check cannot run (and must not pass)."""


@dataclass(frozen=True)
class Listener:
    host: str
    port: int
    inode: int

    @property
    def loopback(self) -> bool:
        return ipaddress.ip_address(self.host).is_loopback


def _decode(hex_addr: str) -> tuple[str, int]:
    addr, port = hex_addr.split(":")
    raw = bytes.fromhex(addr)
    if len(raw) == 4:
        host = socket.inet_ntop(socket.AF_INET, raw[::-1])
    else:  # four little-endian 32-bit words
        words = struct.unpack("<4I", raw)
        host = socket.inet_ntop(socket.AF_INET6, struct.pack(">4I", *words))
        mapped = ipaddress.IPv6Address(host).ipv4_mapped
        host = str(mapped) if mapped is not None else host
    return host, int(port, 16)


def tcp_listeners() -> list[Listener]:
    """Every TCP listener in this network namespace."""
    tables = [Path("/proc/net/tcp"), Path("/proc/net/tcp6")]
    if not tables[0].exists():
        raise ListenerProbeUnavailable("no /proc/net/tcp: cannot see which addresses sockets listen on")
    found = []
    for table in tables:
        if not table.exists():
            continue
        for line in table.read_text().splitlines()[1:]:
            cols = line.split()
            if len(cols) > 9 and cols[3] == _LISTEN:
                host, port = _decode(cols[1])
                found.append(Listener(host, port, int(cols[9])))
    return found


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            kids.extend(int(k) for k in task.read_text().split())
        except OSError:
            continue
    return kids


def process_tree(pid: int | None = None) -> list[int]:
    todo, seen = [pid or os.getpid()], []
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.append(current)
            todo.extend(_children(current))
    return seen


def socket_inodes(pids: list[int]) -> set[int]:
    inodes = set()
    for pid in pids:
        fd_dir = Path(f"/proc/{pid}/fd")
        try:
            entries = list(fd_dir.iterdir())
        except OSError:
            continue
        for fd in entries:
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(int(target[8:-1]))
    return inodes


def own_listeners() -> list[Listener]:
    """Listeners owned by this process or its children (a build's broker may run in either)."""
    owned = socket_inodes(process_tree())
    return [entry for entry in tcp_listeners() if entry.inode in owned]


def listeners_on_ports(ports: set[int]) -> list[Listener]:
    return [entry for entry in tcp_listeners() if entry.port in ports]
