"""The sustained attacks two properties are checked on: a run of failed logins from one source and a stream of
accesses by one actor, each lasting ``WINDOWS`` windows, with the clock times at which a new alert appeared.

Why shared: "every window of the attack is reported" (test_anomaly_sustained) and "not one alert per event"
(test_anomaly_lc_no_flood) are two bounds on the same alert times, one from below and one from above. Each
attack records and verifies hundreds of audit entries, so it is run once per test process and both tests read
its alert times, still checked after every event of the attack.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from aico_secure.conform.fakes import ManualClock as Clock
from aico_secure.conform.fakes import weekday_afternoon
from aico_secure.conform.passphrases import passphrase
from aico_secure.target import KeysCapability, Target
from aico_secure.target.audit import AnomalyThresholds, AuditCapability, AuditTrail

from .test_anomaly_lc_semantics import CALM, access, alerts_about, fail_login

WINDOW_S = 60
WINDOWS = 4


@dataclass(frozen=True)
class Attack:
    """One sustained attack: the thresholds it runs under, the alert it must raise, and one step of it."""

    thresholds: dict[str, int]
    action: str
    subject: str
    step: Callable[[AuditTrail, int], None]


ATTACKS = {
    "auth": Attack({"auth_failures": 3, "auth_window_s": WINDOW_S, **CALM}, "auth_failures", "203.0.113.77",
                   lambda trail, i: fail_login(trail, "203.0.113.77", f"user-{i}")),
    "access": Attack({"access_volume": 3, "volume_window_s": WINDOW_S, **CALM}, "access_volume", "plugin.steady",
                     lambda trail, i: access(trail, "plugin.steady", "conversations")),
}


def alert_times(trail: AuditTrail, clock: Clock, action: str, subject: str, act: Callable[[int], None]) -> list[float]:
    """Run ``act(i)`` once a second for ``WINDOWS`` windows; the clock times at which a new alert appeared."""
    times: list[float] = []
    for i in range(WINDOWS * WINDOW_S):
        act(i)
        if len(alerts_about(trail, action, subject)) > len(times):
            times.append(clock.now)
        clock.advance(1)
    return times


def run_attack(target: Target, name: str, root: Path, fast_kdf: bool) -> list[float]:
    """Attack ``name`` on a new trail (own keyring and clock) under ``root``; its alert times. Closes both."""
    keys = target.require("keys")
    audit = target.require("audit")
    assert isinstance(keys, KeysCapability), "target.keys does not implement KeysCapability"
    assert isinstance(audit, AuditCapability), "target.audit does not implement AuditCapability"
    attack, clock = ATTACKS[name], weekday_afternoon()
    session = keys.create(root / "keys", passphrase(), fast_kdf=fast_kdf)
    try:
        trail = audit.open(session, root / "audit", clock=clock,
                           thresholds=AnomalyThresholds(**attack.thresholds))  # type: ignore[arg-type]
        try:
            return alert_times(trail, clock, attack.action, attack.subject, lambda i: attack.step(trail, i))
        finally:
            trail.close()
    finally:
        session.close()
