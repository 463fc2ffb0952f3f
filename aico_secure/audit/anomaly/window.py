"""Counting events per key over a sliding time window, with bounded memory.

Keys are sources (client addresses, peer ids) or actors, so an attacker controls how many there are: the
table is capped (least recently seen keys are forgotten first) and a key's timestamps never exceed the count
that would trigger an alert, so memory stays bounded during a flood.
"""

from __future__ import annotations

from collections import OrderedDict, deque

MAX_KEYS = 10_000


class SlidingCounter:
    def __init__(self, window_s: float, cap: int, max_keys: int = MAX_KEYS) -> None:
        self.window_s = window_s
        self.cap = cap
        self._times: OrderedDict[str, deque[float]] = OrderedDict()
        self._max_keys = max_keys

    def add(self, key: str, now: float) -> int:
        """Count one occurrence for ``key`` at ``now``; return the occurrences within the window (capped)."""
        times = self._times.pop(key, None) or deque(maxlen=self.cap)
        while times and times[0] <= now - self.window_s:
            times.popleft()
        times.append(now)
        self._times[key] = times
        while len(self._times) > self._max_keys:
            self._times.popitem(last=False)
        return len(times)


class Cooldown:
    """At most one alert per key per ``period_s``: a sustained attack gives one alert per window, not one per
    request (a flood of alerts would bury the log and the user)."""

    def __init__(self, period_s: float, max_keys: int = MAX_KEYS) -> None:
        self.period_s = period_s
        self._last: OrderedDict[str, float] = OrderedDict()
        self._max_keys = max_keys

    def ready(self, key: str, now: float) -> bool:
        last = self._last.get(key)
        if last is not None and now - last < self.period_s:
            return False
        self._last.pop(key, None)
        self._last[key] = now
        while len(self._last) > self._max_keys:
            self._last.popitem(last=False)
        return True
