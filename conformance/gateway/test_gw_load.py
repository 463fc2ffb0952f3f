"""A bounded burst of requests from loopback (AICO-GW-003): the gateway keeps serving a legitimate user, no
guess beyond the limit reaches verification, and the audit log it writes to (when the build has one) still
verifies afterwards. ``full`` sends 10,000 requests; ``quick`` a small sample of the same mix."""

from __future__ import annotations

import itertools
import secrets
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from aico_secure.conform.fakes import ManualClock
from aico_secure.target import KeySession, Target
from aico_secure.target.audit import AuditCapability
from aico_secure.target.gateway import GatewayCapability, RunningGateway

from . import steps
from .gwclient import SuiteClient

ATTACK_THREADS = 4
NEW_CONNECTION_EVERY = 100


class Burst:
    """Attacker traffic: wrong SRP logins on a victim and on made-up users, forged verify calls, malformed and
    oversize bodies. Stops by itself after ``total`` requests."""

    def __init__(self, gateway: RunningGateway, client: SuiteClient, victim: str, total: int) -> None:
        self.gateway, self.client, self.victim, self.total = gateway, client, victim, total
        self._counter = itertools.count()
        self.statuses: Counter[int] = Counter()
        self.errors: Counter[str] = Counter()
        self._lock = threading.Lock()
        self.oversize = b'{"username":"' + b"a" * (gateway.policy.max_body_bytes + 1) + b'"}'

    def _take(self) -> bool:
        return next(self._counter) < self.total

    def _note(self, response: httpx.Response) -> None:
        with self._lock:
            self.statuses[response.status_code] += 1

    def _one(self, http: httpx.Client, kind: int) -> None:
        if not steps.is_srp(self.gateway):
            self._one_own_login(http, kind)
            return
        if kind in (0, 1):
            user = self.victim if kind == 0 else "x" + secrets.token_hex(5)
            response = http.post("/v1/auth/challenge", json={"username": user})
            self._note(response)
            if response.status_code != 200 or not self._take():
                return
            body = response.json()
            response = http.post("/v1/auth/verify", json={"challenge_id": body["challenge_id"],
                                                          "A": secrets.token_hex(64), "M": secrets.token_hex(32)})
        elif kind == 2:
            response = http.post("/v1/auth/verify", json={"challenge_id": secrets.token_urlsafe(24),
                                                          "A": secrets.token_hex(64), "M": secrets.token_hex(32)})
        elif kind == 3:
            response = http.post("/v1/auth/challenge", content=b'{"username": ["x"], "extra": 1}',
                                 headers={"content-type": "application/json"})
        else:
            response = http.post("/v1/auth/challenge", content=self.oversize,
                                 headers={"content-type": "application/json"})
        self._note(response)

    def _one_own_login(self, http: httpx.Client, kind: int) -> None:
        """The same mix for a build with its own login route: wrong passwords for the victim and for made-up
        users, malformed and oversize bodies."""
        user = self.victim if kind == 0 else "x" + secrets.token_hex(5)
        entry = steps.entry_route(self.gateway, user, "wrong-" + secrets.token_hex(8))
        if kind <= 2:
            response = http.request(entry.method, entry.path, json=dict(entry.body))
        else:
            content = b'{"username": ["x"], "extra": 1}' if kind == 3 else self.oversize
            response = http.request(entry.method, entry.path, content=content,
                                    headers={"content-type": "application/json"})
        self._note(response)

    def attacker(self, seed: int) -> None:
        sent = 0
        http = httpx.Client(base_url=self.gateway.base_url, verify=self.client.context, timeout=30.0)
        try:
            while self._take():
                if sent and sent % NEW_CONNECTION_EVERY == 0:
                    http.close()
                    http = httpx.Client(base_url=self.gateway.base_url, verify=self.client.context, timeout=30.0)
                try:
                    self._one(http, (seed + sent) % 5)
                except httpx.HTTPError as exc:
                    with self._lock:
                        self.errors[type(exc).__name__] += 1
                    http.close()
                    http = httpx.Client(base_url=self.gateway.base_url, verify=self.client.context, timeout=30.0)
                sent += 1
        finally:
            http.close()


def _run(gateway: RunningGateway, total: int, password: str, evidence: Callable[[str, object], None]) -> None:
    victim, legit = "victim", "legit"
    gateway.register(victim, password)
    gateway.register(legit, password + "-legit")
    with SuiteClient(gateway) as client:
        login = client.login(legit, password + "-legit")
        assert login.status == 200, "the legitimate user could not log in before the burst"
        access, refresh = str(login.access_token), str(login.refresh_token)
        start_count = gateway.verification_count()
        burst = Burst(gateway, client, victim, total)
        threads = [threading.Thread(target=burst.attacker, args=(i,)) for i in range(ATTACK_THREADS)]
        began = time.monotonic()
        for thread in threads:
            thread.start()
        latencies: list[float] = []
        legit_statuses: Counter[int] = Counter()
        refreshed = False
        while any(t.is_alive() for t in threads):
            t0 = time.monotonic()
            response = client.request("GET", "/v1/me", token=access)
            latencies.append(time.monotonic() - t0)
            legit_statuses[response.status_code] += 1
            if not refreshed and len(latencies) == 5:
                status = client.post_json("/v1/auth/refresh", {"refresh_token": refresh})
                legit_statuses[status.status_code] += 1
                access, refreshed = str(status.json().get("access_token", access)), True
            time.sleep(0.02)
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - began
        verified = gateway.verification_count() - start_count
        health = client.request("GET", "/v1/health").status_code

    sent = sum(burst.statuses.values())
    evidence("burst requests", f"{sent} answered, {sum(burst.errors.values())} transport errors in {elapsed:.1f} s "
                               f"({sent / elapsed:.0f} req/s)")
    evidence("burst statuses", dict(sorted(burst.statuses.items())))
    evidence("legitimate user", f"{sum(legit_statuses.values())} requests {dict(legit_statuses)}, latency median "
                                f"{statistics.median(latencies) * 1000:.1f} ms, max {max(latencies) * 1000:.1f} ms")
    evidence("proofs verified during burst", verified)
    assert sent >= total * 0.95, f"only {sent} of {total} burst requests were answered"
    assert not any(s >= 500 and s != 503 for s in burst.statuses), f"server errors: {dict(burst.statuses)}"
    assert set(legit_statuses) == {200}, f"the legitimate user was not served: {dict(legit_statuses)}"
    assert len(latencies) >= 3, "the legitimate user's requests did not overlap the burst"
    assert verified <= gateway.policy.address_failure_threshold, \
        f"{verified} proofs verified from one address; the limit is {gateway.policy.address_failure_threshold}"
    assert health == 200, "the gateway is not healthy after the burst"


def _with_audit(aico_target: Target, gateway_cap: GatewayCapability, key_session: KeySession, tmp_path: Path,
                clock: ManualClock, run: Callable[[RunningGateway], None],
                evidence: Callable[[str, object], None]) -> None:
    """Run with the build's audit log as the gateway's sink when the build has one, then verify the log."""
    audit = aico_target.audit
    trail: Any = None
    if isinstance(audit, AuditCapability):
        trail = audit.open(key_session, tmp_path / "audit", clock=clock)
    gateway = gateway_cap.start(key_session, tmp_path / "gateway", audit=trail, clock=clock)
    try:
        run(gateway)
    finally:
        gateway.stop()
        if trail is not None:
            trail.close()
    if isinstance(audit, AuditCapability):
        report = audit.verify(key_session, tmp_path / "audit")
        evidence("audit log after burst", f"ok={report.ok}, {report.entries} entries")
        assert report.ok and report.entries > 0, f"the audit log does not verify after the burst: {report.problems[:3]}"
    else:
        evidence("audit log after burst", "build has no audit capability")


@pytest.mark.requirement("AICO-GW-003")
def test_burst_sample(aico_target: Target, gateway_cap: GatewayCapability, key_session: KeySession,
                      tmp_path: Path, clock: ManualClock, password: str,
                      evidence: Callable[[str, object], None]) -> None:
    _with_audit(aico_target, gateway_cap, key_session, tmp_path, clock,
                lambda gw: _run(gw, 300, password, evidence), evidence)


@pytest.mark.requirement("AICO-GW-003")
@pytest.mark.aico_profile("full")
def test_burst_of_ten_thousand(aico_target: Target, gateway_cap: GatewayCapability, key_session: KeySession,
                               tmp_path: Path, clock: ManualClock, password: str,
                               evidence: Callable[[str, object], None]) -> None:
    _with_audit(aico_target, gateway_cap, key_session, tmp_path, clock,
                lambda gw: _run(gw, 10_000, password, evidence), evidence)
