"""Run a test in a local time zone with daylight saving, so builds that read local wall-clock time show it.

Why a POSIX rule rather than a zone name: it needs no tz database on the machine, and it describes US Eastern
time exactly (EST, UTC-5; EDT, UTC-4, from the second Sunday of March to the first Sunday of November, both
at 02:00 local).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

EASTERN = "EST5EDT,M3.2.0,M11.1.0"
# 2026-11-01 06:00 UTC: 02:00 EDT becomes 01:00 EST, so local 01:00-02:00 happens twice.
FALL_BACK = datetime(2026, 11, 1, 6, 0, tzinfo=UTC).timestamp()
# 2026-03-08 07:00 UTC: 02:00 EST becomes 03:00 EDT, so local 02:00-03:00 never happens.
SPRING_FORWARD = datetime(2026, 3, 8, 7, 0, tzinfo=UTC).timestamp()
# 2026-11-01 04:00 UTC is local midnight (00:00 EDT) two hours before the fall-back.
MIDNIGHT_BEFORE_FALL_BACK = datetime(2026, 11, 1, 4, 0, tzinfo=UTC).timestamp()


@contextmanager
def local_zone(rule: str = EASTERN) -> Iterator[None]:
    """Set the process's local time zone (``TZ``) for the block, then put back what was there."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = rule
    time.tzset()
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = before
        time.tzset()
