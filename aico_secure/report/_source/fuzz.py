"""``aico-secure fuzz --output``: each crash, timeout or out-of-memory input is a finding against AICO-SEC-002.

A campaign that neither ran its whole budget nor stopped at a finding (the harness failed to start, or hung and
was killed) checked less than it was asked to, so its run is incomplete: "no crash" from it proves nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aico_secure.report._source.interface import ResultSource, check, fingerprint, recorded_provenance
from aico_secure.report.document import ReportError
from aico_secure.report.model import Finding, Report, SourceKind, SourceRun

REQUIREMENT = "AICO-SEC-002"
MARKER = "aico-secure-fuzz/"


class FuzzSource(ResultSource):
    kind = SourceKind.FUZZ

    def recognises(self, data: Mapping[str, Any]) -> bool:
        marker = data.get("schema")
        return isinstance(marker, str) and marker.startswith(MARKER)

    def convert(self, data: Mapping[str, Any], path: Path) -> Report:
        from aico_secure.fuzz.campaign import CONTRACT_RESULT_KIND, RESULT_KIND, RESULT_SCHEMA

        if data.get("schema") == CONTRACT_RESULT_KIND:
            return _contract(data, path)
        if data.get("schema") != RESULT_KIND:
            raise ReportError(f"{path} is a fuzzing result of version {data.get('schema')!r}; this tool reads "
                              f"{RESULT_KIND} and {CONTRACT_RESULT_KIND}")
        check(data, RESULT_SCHEMA, "aico-secure fuzz", path)
        harness = data["harness"]
        arguments = [harness]
        if data["runs"] is not None:
            arguments.append(f"--runs={data['runs']}")
        if data["max_time"] is not None:
            arguments.append(f"--max-time={data['max_time']}")
        env = data["environment"]
        provenance = recorded_provenance("fuzz", data["tool"]["version"], tuple(arguments),
                                         started_at=data["started_at"], finished_at=data["finished_at"],
                                         python=env["python"], platform=env["platform"],
                                         libraries={"atheris": env["atheris"]})
        findings = [_finding(harness, a) for a in data["artifacts"]]
        problems = []
        if data["killed"]:
            problems.append(f"harness {harness} hung past its time bound and was killed")
            if not any(a["kind"] == "timeout" for a in data["artifacts"]):
                findings.append(Finding(
                    source=SourceKind.FUZZ, rule_id=f"fuzz/{harness}/timeout", requirement=REQUIREMENT,
                    severity="high", message=f"harness {harness} hung past its time bound (no input recorded)",
                    fingerprint=fingerprint("fuzz-hang", harness)))
        elif not data["finished_budget"] and not data["artifacts"]:
            problems.append(f"harness {harness} exited with code {data['exit_code']} before its budget, without "
                            "a crash input (did it start?)")
        summary = {"exit_code": data["exit_code"], "artifacts": len(data["artifacts"]),
                   "elapsed_ms": round(data["elapsed_s"] * 1000)}
        run = SourceRun(SourceKind.FUZZ, provenance, not problems, tuple(problems), summary)
        return Report(provenance=provenance, findings=findings, sources=[run])


def _finding(harness: str, artifact: Mapping[str, Any]) -> Finding:
    kind = artifact["kind"]
    return Finding(source=SourceKind.FUZZ, rule_id=f"fuzz/{harness}/{kind}", requirement=REQUIREMENT,
                   severity="high", message=f"harness {harness}: {kind} on a {artifact['size']}-byte input",
                   fingerprint=artifact["sha256"], path=artifact["file"],
                   detail={"sha256": artifact["sha256"], "size": str(artifact["size"])})


def _contract(data: Mapping[str, Any], path: Path) -> Report:
    """``aico-secure fuzz --target``: each broken property is a finding against its surface's requirement; a
    surface that ran nothing makes the run incomplete."""
    from aico_secure.fuzz.campaign import CONTRACT_RESULT_SCHEMA

    check(data, CONTRACT_RESULT_SCHEMA, "aico-secure fuzz --target", path)
    arguments = ("--target", data["target"], f"--max-time={data['max_time']}", f"--seed={data['seed']}",
                 *(f"--surface={s}" for s in data["surfaces"]))
    env = data["environment"]
    provenance = recorded_provenance("fuzz", data["tool"]["version"], arguments, started_at=data["started_at"],
                                     finished_at=data["finished_at"], python=env["python"],
                                     platform=env["platform"], libraries={"atheris": env["atheris"]})
    findings = [Finding(source=SourceKind.FUZZ, rule_id=f"fuzz-contract/{f['surface']}/{f['kind']}",
                        requirement=f["requirement"], severity="high",
                        message=f"{data['target']} [{f['surface']}] {f['kind']}: {f['detail'][:300]}",
                        fingerprint=fingerprint("fuzz-contract", data["target"], f["surface"], f["kind"],
                                                f["detail"]),
                        detail={"reproducer": f["reproducer"]}) for f in data["findings"]]
    problems = [f"surface {name} ran nothing: {why}" for name, why in data["not_run"].items()]
    if not data["complete"] and not problems:
        problems.append("not every requested surface ran inputs")
    summary = {"findings": len(findings), "elapsed_ms": round(data["elapsed_s"] * 1000),
               **{f"inputs_{name}": count for name, count in data["iterations"].items()}}
    run = SourceRun(SourceKind.FUZZ, provenance, not problems, tuple(problems), summary)
    return Report(provenance=provenance, findings=findings, sources=[run])
