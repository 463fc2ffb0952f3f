"""What a libFuzzer run measured, read from its own output: the ``stat::`` lines ``-print_final_stats=1`` prints
at exit and the last status line (``#N DONE cov: X ft: Y corp: A/Bb ...``).

A run whose figures cannot be read is "not measured" (``parse`` returns ``None``), never a run of zero
executions with no finding: the summary of a campaign states only what libFuzzer itself said.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

_STAT = re.compile(r"^stat::(\w+):\s+(\d+)\s*$")
_STATUS = re.compile(r"^#(\d+)\s+\w+\s+cov: (\d+) ft: (\d+) corp: (\d+)/(\d+)([bKMG]?b?)")
_UNIT = {"": 1, "b": 1, "Kb": 1 << 10, "Mb": 1 << 20, "Gb": 1 << 30}
# The stat:: lines every libFuzzer build prints with -print_final_stats=1; without all of them a run is not
# measured (a harness that died before libFuzzer's exit handler prints none).
REQUIRED = ("number_of_executed_units", "average_exec_per_sec", "new_units_added", "peak_rss_mb")


@dataclass(frozen=True)
class FuzzStats:
    executed_units: int
    execs_per_sec: int  # libFuzzer's own average over the run (0 for a run shorter than a second)
    new_units: int  # inputs the run added to the corpus
    peak_rss_mb: int
    slowest_unit_s: int
    cov: int | None  # coverage features of the last status line; None when the run printed none
    ft: int | None
    corpus_units: int | None
    corpus_bytes: int | None

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def parse(lines: Iterable[str]) -> FuzzStats | None:
    """The figures of one run's output, or ``None`` if its final stats are missing or malformed."""
    stats: dict[str, int] = {}
    status: tuple[int | None, ...] = (None, None, None, None)
    for raw in lines:
        line = raw.strip()
        if match := _STAT.match(line):
            stats[match.group(1)] = int(match.group(2))
        elif match := _STATUS.match(line):
            status = (int(match.group(2)), int(match.group(3)), int(match.group(4)),
                      int(match.group(5)) * _UNIT.get(match.group(6), 1))
    if any(key not in stats for key in REQUIRED):
        return None
    cov, ft, units, size = status  # the last status line (libFuzzer prints one per event)
    return FuzzStats(executed_units=stats["number_of_executed_units"],
                     execs_per_sec=stats["average_exec_per_sec"], new_units=stats["new_units_added"],
                     peak_rss_mb=stats["peak_rss_mb"], slowest_unit_s=stats.get("slowest_unit_time_sec", 0),
                     cov=cov, ft=ft, corpus_units=units, corpus_bytes=size)


STATS_SCHEMA: dict[str, Any] = {
    "type": ["object", "null"],
    "description": "libFuzzer's own figures; null: the run's stats could not be read (not measured)",
    "additionalProperties": False,
    "required": ["executed_units", "execs_per_sec", "new_units", "peak_rss_mb", "slowest_unit_s", "cov", "ft",
                 "corpus_units", "corpus_bytes"],
    "properties": {
        **{key: {"type": "integer", "minimum": 0}
           for key in ("executed_units", "execs_per_sec", "new_units", "peak_rss_mb", "slowest_unit_s")},
        **{key: {"type": ["integer", "null"], "minimum": 0}
           for key in ("cov", "ft", "corpus_units", "corpus_bytes")},
    },
}
