"""Per-file and per-run budgets: decoded bytes and wall-clock time.

A small file can hold thousands of compression bombs, each within the per-stream cap; without a budget over the
whole file (and the whole run) the inspector would decode gigabytes for a few MiB of input. Every decoded byte is
charged here (``spend``) and the clock is checked at every window (``tick``). Running out raises
``BudgetExceeded``: the scan of that file stops, what was found so far is kept, and the file is reported as
not fully inspected with the reason, so the verdict can never be clean.
"""

from __future__ import annotations

import time

from aico_secure.inspector.interface import Limits


class BudgetExceeded(Exception):
    """A per-file or per-run budget ran out; the message says which (it is the reported reason)."""


class Budget:
    """Charges decoded bytes and elapsed time against the limits of one inspection."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._now = time.monotonic
        self.run_started = self._now()
        self.run_decoded = 0
        self.seen = 0  # bytes of the files met so far (the per-run decode budget grows with them)
        self.file_decoded = 0
        self.file_started = self.run_started
        self.file_budget = limits.file_decode_bytes

    def start_file(self, size: int) -> None:
        self.seen += size
        self.file_decoded = 0
        self.file_started = self._now()
        self.file_budget = self.limits.file_decode_budget(size)

    def run_time_left(self) -> bool:
        limit = self.limits.run_seconds
        return limit is None or self._now() - self.run_started < limit

    def spend(self, decoded: int) -> None:
        """Charge ``decoded`` bytes; raise once the file's or the run's budget is exhausted."""
        self.file_decoded += decoded
        self.run_decoded += decoded
        if self.file_decoded > self.file_budget:
            raise BudgetExceeded(f"per-file decode budget of {self.file_budget} bytes exhausted (compression bombs?)")
        run_budget = self.limits.run_decode_budget(self.seen)
        if self.run_decoded > run_budget:
            raise BudgetExceeded(f"per-run decode budget of {run_budget} bytes exhausted")
        self.tick()

    def tick(self) -> None:
        """Raise once the file's or the run's time budget is exhausted."""
        now = self._now()
        if now - self.file_started > self.limits.file_seconds:
            raise BudgetExceeded(f"per-file time budget of {self.limits.file_seconds:g} s exhausted")
        if self.limits.run_seconds is not None and now - self.run_started > self.limits.run_seconds:
            raise BudgetExceeded(f"per-run time budget of {self.limits.run_seconds:g} s exhausted")
