"""Audit log append rate with and without sealing, side by side in one run.

Both variants are the real writer (``AuditLog``): canonical JSON, credential redaction, HMAC chain and a
checkpoint replaced after every append; they differ only in the entry codec (AES-256-GCM envelope vs plain).
Measured twice: with ``durable=True`` (fsync of the log and the checkpoint on every append: the reference
default) and ``durable=False`` (page cache only), because the fsyncs dominate the first. Variants alternate
round by round so drift on a shared machine hits both alike; the median round is reported. Verification speed
(entries per second) is printed too. Run: ``python bench/run.py audit``; ``AICO_BENCH_AUDIT_EVENTS`` sets
the number of appends per non-durable round (default 4000; durable rounds use a quarter).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

from aico_secure.audit.codec import EntryCodec, PlainCodec, SealedCodec
from aico_secure.audit.events import AuditEvent
from aico_secure.audit.log import AuditLog
from aico_secure.audit.logkeys import KeyringLogKeys
from aico_secure.audit.verify import verify_log
from aico_secure.keys import Keyring

ROUNDS = 5


def _events(n: int) -> list[AuditEvent]:
    return [AuditEvent(category="data_access", action="read", actor=f"plugin.p{i % 7}", subject="conversations",
                       details={"record": f"conversation-{i}", "bytes": 512 + i % 300}) for i in range(n)]


def _append_rate(root: Path, keys: KeyringLogKeys, codec: EntryCodec, events: list[AuditEvent],
                 durable: bool) -> tuple[float, float]:
    """(appends per second, verified entries per second) for one fresh log."""
    directory = Path(tempfile.mkdtemp(dir=root))
    log = AuditLog.open(directory, keys, codec=codec, durable=durable, clock=lambda: 1_772_460_000.0)
    start = time.perf_counter()
    for event in events:
        log.append(event)
    appended = time.perf_counter() - start
    log.close()
    start = time.perf_counter()
    found = verify_log(directory, keys, codec)
    verified = time.perf_counter() - start
    assert found.ok and found.authentic == len(events)
    return len(events) / appended, len(events) / verified


def main() -> None:
    n = int(os.environ.get("AICO_BENCH_AUDIT_EVENTS", "4000"))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        keys = KeyringLogKeys(Keyring.create(Keyring.path_in(root / "keys"), "bench", profile="test"))
        codecs: dict[str, EntryCodec] = {"sealed": SealedCodec(keys), "plain": PlainCodec()}
        for durable, count in ((False, n), (True, max(50, n // 4))):
            events = _events(count)
            rates: dict[str, list[tuple[float, float]]] = {name: [] for name in codecs}
            for _ in range(ROUNDS):
                for name, codec in codecs.items():
                    rates[name].append(_append_rate(root, keys, codec, events, durable))
            append = {k: statistics.median(r[0] for r in v) for k, v in rates.items()}
            check = {k: statistics.median(r[1] for r in v) for k, v in rates.items()}
            label = "durable (fsync per append)" if durable else "page cache (no fsync)"
            print(f"{label}: {count} appends x {ROUNDS} rounds")
            for name in codecs:
                print(f"  {name:<7} append {append[name]:>9.0f}/s   verify {check[name]:>9.0f} entries/s")
            print(f"  ratio sealed/plain: append {append['sealed'] / append['plain']:.2f}, "
                  f"verify {check['sealed'] / check['plain']:.2f}")


if __name__ == "__main__":
    main()
