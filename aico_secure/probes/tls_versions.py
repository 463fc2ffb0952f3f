"""Which TLS protocol versions a server accepts, probed with more than one client stack, in three states.

Why more than one stack: Python's ``ssl`` module offers only what the local OpenSSL allows. A hardened OpenSSL
(built without TLS 1.0/1.1, or configured with ``Protocol = -TLSv1``) cannot even send a TLS 1.0 ClientHello,
and "we could not ask" must never read as "the server refused". nassl ships its own OpenSSL 1.0.2 (its legacy
client offers SSL 3.0 to TLS 1.2 whatever the system library allows), so the question is asked anyway.

Each version ends in one of three verdicts:

* ``accepted``: some client offering only that version completed a handshake.
* ``refused``: at least one client did send that version's ClientHello and the server did not complete it.
* ``could not probe``: no client could offer it (or the server never answered), so nothing is known. A caller
  must treat this as a failure of the requirement, never as a pass.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from aico_secure.probes.tls import SERVER_NAME, VERSIONS, handshake, probe_client_context

# Every version the probe asks about, oldest first. SSL 3.0 only through nassl: no current OpenSSL can offer it.
PROBED_VERSIONS = ("SSLv3", *VERSIONS)
HANDSHAKE_TIMEOUT_S = 5.0
# Errors a client raises before (or instead of) sending that version's ClientHello: the local stack cannot offer
# it, which says nothing about the server.
_LOCAL_ERRORS = ("NO_PROTOCOLS_AVAILABLE", "NO_CIPHERS_AVAILABLE", "NO PROTOCOLS AVAILABLE",
                 "NO CIPHERS AVAILABLE", "NULL SSL METHOD")


class Verdict(StrEnum):
    ACCEPTED = "accepted"
    REFUSED = "refused"
    NOT_PROBED = "could not probe"


@dataclass(frozen=True)
class Attempt:
    """One client stack's answer for one version: ``detail`` is the cipher, or why it failed."""

    client: str
    verdict: Verdict
    detail: str


@dataclass(frozen=True)
class VersionResult:
    version: str
    verdict: Verdict
    attempts: tuple[Attempt, ...]

    def __str__(self) -> str:
        shown = [a for a in self.attempts if a.verdict is self.verdict] or list(self.attempts)
        return f"{self.verdict} (" + "; ".join(f"{a.client}: {a.detail}" for a in shown) + ")"


def combine(version: str, attempts: Sequence[Attempt]) -> VersionResult:
    """Accepted if any client got a handshake; refused if any client asked and none got one; else not probed."""
    for verdict in (Verdict.ACCEPTED, Verdict.REFUSED):
        if any(a.verdict is verdict for a in attempts):
            return VersionResult(version, verdict, tuple(attempts))
    if not attempts:
        attempts = (Attempt("none", Verdict.NOT_PROBED, "no client on this machine offers it"),)
    return VersionResult(version, Verdict.NOT_PROBED, tuple(attempts))


@dataclass(frozen=True)
class ProbeTarget:
    """Where and as whom to ask: the server's port on 127.0.0.1 and the client certificate to present."""

    port: int
    ca_path: Path
    cert: Path
    key: Path
    server_name: str = SERVER_NAME
    timeout: float = HANDSHAKE_TIMEOUT_S


def _is_local(error: str) -> bool:
    upper = error.upper()
    return any(marker in upper for marker in _LOCAL_ERRORS)


def python_ssl_attempt(target: ProbeTarget, version: str) -> Attempt:
    """Offer exactly ``version`` with Python's ``ssl`` (the system OpenSSL) at security level 0."""
    client = f"python ssl ({ssl.OPENSSL_VERSION})"
    if version not in VERSIONS:
        return Attempt(client, Verdict.NOT_PROBED, "this OpenSSL cannot offer it")
    try:
        ctx = probe_client_context(target.ca_path, cert=target.cert, key=target.key, version=version)
    except (ssl.SSLError, ValueError) as exc:
        return Attempt(client, Verdict.NOT_PROBED, f"this OpenSSL cannot offer it ({type(exc).__name__})")
    outcome = handshake(target.port, ctx, server_name=target.server_name, timeout=target.timeout)
    if outcome.completed:
        return Attempt(client, Verdict.ACCEPTED, outcome.cipher or "handshake completed")
    if outcome.error.startswith("connect:") or outcome.error in ("TimeoutError", "timeout"):
        return Attempt(client, Verdict.NOT_PROBED, f"no handshake answer ({outcome.error})")
    if _is_local(outcome.error):
        return Attempt(client, Verdict.NOT_PROBED, f"this OpenSSL cannot offer it ({outcome.error})")
    return Attempt(client, Verdict.REFUSED, outcome.error)


def nassl_attempt(target: ProbeTarget, version: str) -> Attempt:
    """Offer exactly ``version`` with nassl's legacy client (its own OpenSSL 1.0.2), every cipher it knows."""
    client = "nassl legacy OpenSSL 1.0.2"
    try:
        from nassl._nassl import OpenSSLError
        from nassl.legacy_ssl_client import LegacySslClient
        from nassl.ssl_client import OpenSslVerifyEnum, OpenSslVersionEnum
    except ImportError as exc:
        return Attempt(client, Verdict.NOT_PROBED, f"nassl is not installed ({type(exc).__name__})")
    offered = {"SSLv3": OpenSslVersionEnum.SSLV3, "TLSv1": OpenSslVersionEnum.TLSV1,
               "TLSv1.1": OpenSslVersionEnum.TLSV1_1, "TLSv1.2": OpenSslVersionEnum.TLSV1_2}.get(version)
    if offered is None:
        return Attempt(client, Verdict.NOT_PROBED, "the legacy client cannot offer it")
    try:
        raw = socket.create_connection(("127.0.0.1", target.port), timeout=target.timeout)
    except OSError as exc:
        return Attempt(client, Verdict.NOT_PROBED, f"no handshake answer (connect: {type(exc).__name__})")
    try:
        try:
            tls = LegacySslClient(underlying_socket=raw, ssl_version=offered, ssl_verify=OpenSslVerifyEnum.NONE,
                                  client_certificate_chain=target.cert, client_key=target.key)
            tls.set_cipher_list("ALL:COMPLEMENTOFALL")
            if version != "SSLv3":
                tls.set_tlsext_host_name(target.server_name)
        except (OpenSSLError, ValueError) as exc:
            return Attempt(client, Verdict.NOT_PROBED, f"client set-up failed ({_first_line(exc)})")
        try:
            tls.do_handshake()
        except TimeoutError:
            return Attempt(client, Verdict.NOT_PROBED, "no handshake answer (timeout)")
        except OpenSSLError as exc:
            reason = _first_line(exc)
            verdict = Verdict.NOT_PROBED if _is_local(reason) else Verdict.REFUSED
            return Attempt(client, verdict, reason)
        except OSError as exc:  # the server closed or reset the connection instead of answering
            return Attempt(client, Verdict.REFUSED, _first_line(exc) or type(exc).__name__)
        cipher = tls.get_current_cipher_name()
        tls.shutdown()
        return Attempt(client, Verdict.ACCEPTED, cipher or "handshake completed")
    finally:
        raw.close()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


Client = Callable[[ProbeTarget, str], Attempt]
CLIENTS: tuple[Client, ...] = (python_ssl_attempt, nassl_attempt)


def probe_versions(target: ProbeTarget, *, versions: Sequence[str] = PROBED_VERSIONS,
                   clients: Sequence[Client] = CLIENTS) -> dict[str, VersionResult]:
    """Each version's verdict. Clients are tried in order until one is accepted (a refusal by one client does not
    end the search: another may offer ciphers or extensions the server takes)."""
    results = {}
    for version in versions:
        attempts: list[Attempt] = []
        for client in clients:
            attempt = client(target, version)
            attempts.append(attempt)
            if attempt.verdict is Verdict.ACCEPTED:
                break
        results[version] = combine(version, attempts)
    return results
