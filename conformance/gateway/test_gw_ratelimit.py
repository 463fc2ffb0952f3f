"""Authentication throttling (AICO-GW-003): lockout per identity and per client address, with backoff, refused
before any password proof is checked; every guess on a new connection, so a per-connection limit fails; failure
counts and locks hold across a restart on the same directory."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable

import pytest

from aico_secure.conform.fakes import ManualClock
from aico_secure.target.gateway import RunningGateway

from .conftest import StartGateway
from .gwclient import LoginOutcome, SuiteClient

MAX_IDENTITY_THRESHOLD = 10
MAX_ADDRESS_THRESHOLD = 100


def _wrong(client: SuiteClient, user: str, password: str) -> LoginOutcome:
    return client.login(user, password + "-wrong", honour_short_retry=True)


def _locked(outcome: LoginOutcome) -> int:
    """The Retry-After of a lockout refusal, in seconds (asserting it is one)."""
    assert outcome.status == 429, f"expected a lockout (429), got {outcome.status} at the {outcome.stage} step"
    assert outcome.retry_after and outcome.retry_after.isdigit(), "a 429 must carry Retry-After in seconds"
    return int(outcome.retry_after)


@pytest.mark.requirement("AICO-GW-003")
def test_identity_lockout_with_backoff(gateway: RunningGateway, clock: ManualClock, password: str,
                                       new_user: Callable[[], str], evidence: Callable[[str, object], None]) -> None:
    policy = gateway.policy
    n = policy.identity_failure_threshold
    assert 1 <= n <= MAX_IDENTITY_THRESHOLD, f"identity_failure_threshold {n} is not in 1..{MAX_IDENTITY_THRESHOLD}"
    user, other = new_user(), new_user()
    gateway.register(user, password)
    gateway.register(other, password)
    with SuiteClient(gateway, fresh=True) as client:
        start = gateway.verification_count()
        for _ in range(n):
            assert _wrong(client, user, password).status == 401
        assert gateway.verification_count() - start == n, "each wrong proof below the threshold is verified once"
        locked_at = gateway.verification_count()
        first_wait = _locked(_wrong(client, user, password))
        for attempt in (password + "-x", password + "-y", password):
            _locked(client.login(user, attempt, honour_short_retry=True))
        assert gateway.verification_count() == locked_at, "a guess beyond the limit reached password verification"
        if policy.address_failure_threshold > n:
            assert client.login(other, password, honour_short_retry=True).status == 200, \
                "another identity from the same address was locked: the limit is not per identity"

        clock.advance(first_wait + 1)
        before_relock, failures_until_relock = gateway.verification_count(), 0
        while True:
            outcome = _wrong(client, user, password)
            if outcome.status == 429:
                break
            assert outcome.status == 401 and failures_until_relock < n, "no new lock after the first one ended"
            failures_until_relock += 1
        second_wait = _locked(outcome)
        assert second_wait > first_wait, f"no backoff: second lock {second_wait} s, first {first_wait} s"
        assert gateway.verification_count() - before_relock == failures_until_relock
        clock.advance(second_wait + 1)
        assert client.login(user, password, honour_short_retry=True).status == 200, "the owner is locked out for good"
    evidence("identity lockout", f"after {n} failures, {first_wait} s then {second_wait} s")


@pytest.mark.requirement("AICO-GW-003")
def test_address_lockout_across_identities(gateway: RunningGateway, password: str, new_user: Callable[[], str],
                                           evidence: Callable[[str, object], None]) -> None:
    """Spraying one guess or a few over many identities from one address is stopped too."""
    policy = gateway.policy
    m, n = policy.address_failure_threshold, policy.identity_failure_threshold
    assert 1 <= m <= MAX_ADDRESS_THRESHOLD, f"address_failure_threshold {m} is not in 1..{MAX_ADDRESS_THRESHOLD}"
    per_user = max(1, n - 1)  # stay under every identity's own threshold
    users = [new_user() for _ in range(math.ceil(m / per_user) + 1)]
    for user in users:
        gateway.register(user, password)
    with SuiteClient(gateway, fresh=True) as client:
        start, failures = gateway.verification_count(), 0
        for user in users[:-1]:
            for _ in range(min(per_user, m - failures)):
                outcome = _wrong(client, user, password)
                assert outcome.status == 401, f"failure {failures + 1} of {m} was answered {outcome.status}"
                failures += 1
        assert gateway.verification_count() - start == m
        fresh_user = users[-1]
        _locked(client.login(fresh_user, password, honour_short_retry=True))
        _locked(_wrong(client, users[0], password))
        assert gateway.verification_count() - start == m, "a guess beyond the address limit reached verification"
    evidence("address lockout", f"after {m} failures over {len(users) - 1} identities")


@pytest.mark.requirement("AICO-GW-003")
def test_concurrent_guesses_cannot_pass_the_limit(gateway: RunningGateway, password: str,
                                                  new_user: Callable[[], str]) -> None:
    """Guesses racing each other must not all slip past a check made before the first failure is counted."""
    n = gateway.policy.identity_failure_threshold
    user = new_user()
    gateway.register(user, password)
    start = gateway.verification_count()
    barrier = threading.Barrier(3 * n)
    statuses: list[int] = []

    def guess() -> None:
        with SuiteClient(gateway) as client:
            barrier.wait(timeout=30)
            statuses.append(_wrong(client, user, password).status)

    threads = [threading.Thread(target=guess) for _ in range(3 * n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(statuses) == 3 * n, "some guesses never completed"
    assert all(s in (401, 429, 503) for s in statuses), f"unexpected answers to wrong guesses: {sorted(statuses)}"
    assert gateway.verification_count() - start <= n, \
        f"{gateway.verification_count() - start} concurrent guesses were verified; the limit is {n}"


@pytest.mark.requirement("AICO-GW-003")
def test_failure_counts_and_locks_survive_a_restart(start_gateway: StartGateway, clock: ManualClock, password: str,
                                                     new_user: Callable[[], str],
                                                     evidence: Callable[[str, object], None]) -> None:
    """A guesser who can make the gateway restart must not get fresh guesses: failures counted before a ``stop``
    and a new ``start`` on the same directory still count, and a lock still holds."""
    gateway = start_gateway()
    n = gateway.policy.identity_failure_threshold
    user, locked_user = new_user(), new_user()
    gateway.register(user, password)
    gateway.register(locked_user, password)
    with SuiteClient(gateway, fresh=True) as client:
        for _ in range(n - 1):
            assert _wrong(client, user, password).status == 401
        for _ in range(n):
            assert _wrong(client, locked_user, password).status == 401
        _locked(_wrong(client, locked_user, password))
    gateway.stop()

    restarted = start_gateway()
    with SuiteClient(restarted, fresh=True) as client:
        start = restarted.verification_count()
        _locked(client.login(locked_user, password, honour_short_retry=True))
        assert _wrong(client, user, password).status == 401, "the last allowed guess was refused early"
        _locked(_wrong(client, user, password))
        assert restarted.verification_count() - start == 1, \
            "after a restart, guesses beyond the limit reached password verification"
    evidence("lockout across restart", f"{n - 1} failures before, 1 after: locked; a lock held across the restart")
