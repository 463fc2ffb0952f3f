"""Unusual category: an actor touching a data category it never touched while its habits were being learnt.

Each actor's first ``baseline`` data accesses define the categories it normally uses; afterwards the first
access to any other category raises one alert (and the category joins its habits, so the alert is not
repeated for every later access). A plugin that reads notes for months and suddenly reads health data is
the case this catches.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

from aico_secure.audit.anomaly.interface import alert, is_data_access
from aico_secure.audit.anomaly.window import MAX_KEYS
from aico_secure.audit.events import AuditEvent

ACTION = "unusual_category"
MAX_CATEGORIES = 256


@dataclass
class _Habits:
    seen: int = 0
    categories: set[str] = field(default_factory=set)


class CategoryDetector:
    def __init__(self, baseline: int) -> None:
        self.baseline = baseline
        self._actors: OrderedDict[str, _Habits] = OrderedDict()

    def observe(self, event: AuditEvent) -> list[AuditEvent]:
        if not is_data_access(event) or not event.subject:
            return []
        assert event.timestamp is not None
        habits = self._actors.pop(event.actor, None) or _Habits()
        self._actors[event.actor] = habits
        while len(self._actors) > MAX_KEYS:
            self._actors.popitem(last=False)
        known = event.subject in habits.categories
        learning = habits.seen < self.baseline
        habits.seen += 1
        if known:
            return []
        if len(habits.categories) < MAX_CATEGORIES:
            habits.categories.add(event.subject)
        if learning:
            return []
        return [alert(ACTION, event.actor, event.timestamp, {"category": event.subject,
                                                              "baseline_accesses": self.baseline})]
