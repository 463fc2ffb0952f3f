"""Scores per module, per group and per requirement area, and the files a run leaves in ``results/``.

Why the score excludes equivalents and skipped mutants: an equivalent mutant cannot be killed by any test,
and a skipped one was never run; counting either would measure the review or the time budget, not the suite.
Timeouts count as killed (the suite did not let the build pass).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mutation.catalog import Config
from mutation.runner import EQUIVALENT, KILLED, SKIPPED, SURVIVED, TIMEOUT, Outcome


@dataclass(frozen=True)
class Score:
    """Counts for one slice of the outcomes; ``score`` is None when no scored mutant ran."""

    killed: int
    timeout: int
    survived: int
    equivalent: int
    skipped: int

    @property
    def run(self) -> int:
        return self.killed + self.timeout + self.survived

    @property
    def score(self) -> float | None:
        return None if self.run == 0 else (self.killed + self.timeout) / self.run

    def as_dict(self) -> dict[str, Any]:
        return {"run": self.run, "killed": self.killed, "timeout": self.timeout, "survived": self.survived,
                "equivalent": self.equivalent, "skipped": self.skipped,
                "score": None if self.score is None else round(self.score, 4)}


@dataclass(frozen=True)
class Row:
    """The three facts a score needs about one mutant (from a run or from the recorded baseline)."""

    module: str
    group: str
    status: str


def score(statuses: Iterable[str]) -> Score:
    counts = dict.fromkeys((KILLED, TIMEOUT, SURVIVED, EQUIVALENT, SKIPPED), 0)
    for status in statuses:
        counts[status] += 1
    return Score(counts[KILLED], counts[TIMEOUT], counts[SURVIVED], counts[EQUIVALENT], counts[SKIPPED])


def rows(outcomes: Iterable[Outcome]) -> list[Row]:
    return [Row(o.mutant.module, o.group, o.status) for o in outcomes]


def breakdown(config: Config, table: Sequence[Row]) -> dict[str, Any]:
    """The whole summary: total, per module, per group and per conformance (requirement) area.

    A mutant counts for an area when its group's areas include it: the area's tests were the ones asked to
    notice it.
    """
    modules = sorted({r.module for r in table})
    groups = sorted({r.group for r in table})
    areas = sorted({a for g in groups for a in config.groups[g].areas})
    return {
        "total": score(r.status for r in table).as_dict(),
        "per_module": {m: score(r.status for r in table if r.module == m).as_dict() for m in modules},
        "per_group": {g: score(r.status for r in table if r.group == g).as_dict() for g in groups},
        "per_area": {a: score(r.status for r in table if a in config.groups[r.group].areas).as_dict()
                     for a in areas},
    }


def outcome_record(outcome: Outcome) -> dict[str, Any]:
    m = outcome.mutant
    return {"id": m.mutant_id, "module": m.module, "line": m.line, "operator": m.operator, "group": outcome.group,
            "status": outcome.status, "seconds": round(outcome.seconds, 2), "killed_by": outcome.killed_by,
            "note": outcome.note, "diff": outcome.diff}


def write_results(directory: Path, stamp: str, meta: dict[str, Any], summary: dict[str, Any],
                  outcomes: Sequence[Outcome]) -> Path:
    """``results/<stamp>.json`` (everything) and ``results/<stamp>-survivors.md`` (file:line, operator, diff)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"mutation-{stamp}.json"
    body = {"meta": meta, "summary": summary, "mutants": [outcome_record(o) for o in outcomes]}
    path.write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")
    survivors = [o for o in outcomes if o.status == SURVIVED]
    lines = [f"# Surviving mutants ({len(survivors)})", ""]
    for o in survivors:
        lines += [f"## `{o.mutant.mutant_id}`", "", f"{o.mutant.module}:{o.mutant.line}, operator "
                  f"{o.mutant.operator}, group {o.group}", "", "```diff", o.diff, "```", ""]
    (directory / f"mutation-{stamp}-survivors.md").write_text("\n".join(lines), encoding="utf-8")
    return path


def format_summary(summary: dict[str, Any]) -> str:
    """A plain table for stdout."""
    rows = ["slice                                          run kill  t/o surv  equ skip  score"]
    for title in ("per_group", "per_area", "per_module"):
        rows.append(f"-- {title.removeprefix('per_')} --")
        for name, s in summary[title].items():
            pct = "   n/a" if s["score"] is None else f"{100 * s['score']:5.1f}%"
            rows.append(f"{name:<46}{s['run']:4d}{s['killed']:5d}{s['timeout']:5d}{s['survived']:5d}"
                        f"{s['equivalent']:5d}{s['skipped']:5d} {pct}")
    t = summary["total"]
    rows.append(f"TOTAL: {t['killed'] + t['timeout']}/{t['run']} detected"
                + ("" if t["score"] is None else f" = {100 * t['score']:.1f}%")
                + f", {t['equivalent']} equivalent excluded, {t['skipped']} skipped")
    return "\n".join(rows)
