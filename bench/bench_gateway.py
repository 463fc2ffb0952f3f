"""Gateway costs, measured side by side: what a refused guess costs against a checked one, what a new TLS
connection costs against keep-alive, and what auditing costs a login flood. Ratios only; never asserted.

Run: ``python bench/run.py gateway`` (about a minute).
"""

from __future__ import annotations

import secrets
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from aico_secure.gateway.config import GatewayConfig
from aico_secure.gateway.ratelimit import AuthGuard
from aico_secure.gateway.srp import DEFAULT_GROUP, SrpClientSession, SrpServerSession, compute_verifier, new_salt
from aico_secure.reference.audit import ReferenceAudit
from aico_secure.reference.gateway import ReferenceGateway, ReferenceRunningGateway
from aico_secure.reference.keys import ReferenceKeys, ReferenceKeySession
from aico_secure.transport.tls.contexts import client_context


def _rate(label: str, count: int, action: Callable[[], object]) -> float:
    start = time.perf_counter()
    for _ in range(count):
        action()
    elapsed = time.perf_counter() - start
    per_second = count / elapsed
    print(f"  {label:<44} {per_second:>10.0f} /s")
    return per_second


def bench_guess_costs() -> None:
    print("a guess the server checks vs a guess refused by the lockout (in process)")
    salt = new_salt()
    verifier = compute_verifier(DEFAULT_GROUP, salt, "bench", "pw")
    client = SrpClientSession(DEFAULT_GROUP, "bench", "pw")

    def checked() -> None:
        server = SrpServerSession(DEFAULT_GROUP, "bench", salt, verifier)
        server.verify(client.client_public, b"\0" * 32)

    guard = AuthGuard(GatewayConfig(), time.time)
    for _ in range(5):
        guard.failed("bench", "127.0.0.1")

    def refused() -> None:
        with guard.lock:
            guard.retry_after("bench", "127.0.0.1")

    slow = _rate("challenge + proof check (3072-bit SRP)", 200, checked)
    fast = _rate("lockout check", 200_000, refused)
    print(f"  ratio: a refused guess is {fast / slow:.0f}x cheaper than a checked one\n")


# No lockouts and no request-rate limits: measure the work a flood causes, not the throttling.
UNTHROTTLED = GatewayConfig(identity_failure_threshold=10**9, address_failure_threshold=10**9,
                            auth_rate_per_address="1000000/second", auth_rate_per_identity="1000000/second",
                            max_pending_per_identity=10**6)


def _start(root: Path, audited: bool,
           config: GatewayConfig | None = None) -> tuple[ReferenceRunningGateway, ReferenceKeySession, object]:
    session = ReferenceKeys().create(root / "keys", "pw-" + secrets.token_hex(8), fast_kdf=True)
    trail = ReferenceAudit().open(session, root / "audit") if audited else None
    gateway = ReferenceGateway(config=config).start(session, root / "gw", audit=trail)
    return gateway, session, trail


def bench_connections(root: Path) -> None:
    print("authenticated GET /v1/me over TLS 1.3: keep-alive vs a new connection per request")
    gateway, _session, _ = _start(root / "conn", audited=False)
    try:
        gateway.register("bench", "pw")
        context = client_context(gateway.data_dir / "ca.crt")
        with gateway.client() as client:
            token = client.login("bench", "pw").access_token
        headers = {"authorization": f"Bearer {token}"}
        with httpx.Client(base_url=gateway.base_url, verify=context) as http:
            kept = _rate("keep-alive", 300, lambda: http.get("/v1/me", headers=headers))

        def fresh() -> None:
            with httpx.Client(base_url=gateway.base_url, verify=context) as http:
                http.get("/v1/me", headers=headers)

        new = _rate("new connection each time", 100, fresh)
        print(f"  ratio: keep-alive serves {kept / new:.1f}x more requests\n")
    finally:
        gateway.stop()


def bench_audit_cost(root: Path) -> None:
    print("a flood of wrong logins (challenge + verify) with and without the sealed audit log")
    rates = {}
    for audited in (False, True):
        gateway, _session, trail = _start(root / f"audit-{audited}", audited, UNTHROTTLED)
        try:
            gateway.register("victim", "pw")
            context = client_context(gateway.data_dir / "ca.crt")
            with httpx.Client(base_url=gateway.base_url, verify=context) as http:
                def attempt() -> None:
                    challenge = http.post("/v1/auth/challenge", json={"username": "victim"}).json()
                    http.post("/v1/auth/verify", json={"challenge_id": challenge.get("challenge_id", "x" * 20),
                                                       "A": "0f" * 64, "M": "00" * 32})

                rates[audited] = _rate(f"wrong logins, audit={'sealed log' if audited else 'none'}", 150, attempt)
        finally:
            gateway.stop()
            if trail is not None:
                trail.close()  # type: ignore[attr-defined]
    print(f"  ratio: auditing keeps {rates[True] / rates[False]:.2f} of the unaudited wrong-login rate\n")


def main() -> None:
    bench_guess_costs()
    with tempfile.TemporaryDirectory(prefix="aico-bench-gw-") as tmp:
        bench_connections(Path(tmp))
        bench_audit_cost(Path(tmp))


if __name__ == "__main__":
    main()
