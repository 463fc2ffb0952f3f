"""Where a bus socket may listen, and how to tell a loopback endpoint from an exposed one.

The real AICO bus bound ``tcp://*``: every host on the network could reach it. The broker refuses any bind that
is not loopback or IPC unless explicitly told otherwise, and the probes use the same test on what a build
actually bound.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from aico_secure.transport.errors import BusConfigError

_WILDCARDS = {"*", "0.0.0.0", "::", "[::]"}  # noqa: S104 - recognising wildcards, not binding them


def split_tcp(endpoint: str) -> tuple[str, int]:
    """``tcp://host:port`` -> (host, port); IPv6 hosts come back without brackets."""
    if not endpoint.startswith("tcp://"):
        raise BusConfigError(f"not a tcp endpoint: {endpoint!r}")
    rest = endpoint[len("tcp://"):]
    host, sep, port = rest.rpartition(":")
    if not sep or not port.isdigit():
        raise BusConfigError(f"tcp endpoint needs host:port: {endpoint!r}")
    return host.strip("[]"), int(port)


def is_loopback_host(host: str) -> bool:
    if host in _WILDCARDS:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a name or interface we cannot prove is loopback


def is_loopback_endpoint(endpoint: str) -> bool:
    """True for ``ipc://``, ``inproc://`` and ``tcp://`` on a loopback address; False for anything else."""
    scheme = urlsplit(endpoint).scheme
    if scheme in ("ipc", "inproc"):
        return True
    if scheme == "tcp":
        try:
            host, _port = split_tcp(endpoint)
        except BusConfigError:
            return False
        return is_loopback_host(host)
    return False


def connect_form(bound: str) -> str:
    """The endpoint a local client connects to for a bound endpoint (a wildcard bind is reached on 127.0.0.1)."""
    if bound.startswith("tcp://"):
        host, port = split_tcp(bound)
        if host in _WILDCARDS:
            return f"tcp://127.0.0.1:{port}"
    return bound
