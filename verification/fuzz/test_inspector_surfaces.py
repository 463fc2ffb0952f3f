"""The inspector harnesses hold the scan to its whole contract, not only to "raises nothing": what they count
as a finding is checked here on hand-made results, so a harness cannot silently stop seeing a broken scan."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import duckdb
import pytest

from aico_secure.fuzz._harness._inspect import CANARIES, LIMITS, ContractBroken, check_result
from aico_secure.inspector import inspect_tree
from aico_secure.inspector.model import Finding, InspectionResult

PATH = "/scan/notes.txt"
CONTENT = b"0123456789" + CANARIES[0].encode() + b"\n"


def _result(**changes: object) -> InspectionResult:
    result = InspectionResult(root="/scan", files_read=1, bytes_read=len(CONTENT))
    for name, value in changes.items():
        setattr(result, name, value)
    return result


def _finding(offset: int) -> Finding:
    return Finding(PATH, offset, f"canary:{CANARIES[0]}", "utf-8", "text", "high", "canary")


def test_a_well_formed_result_passes() -> None:
    result = _result(findings=[_finding(10)])
    result.mark_unreadable(f"{PATH}#zlib@3", "truncated zlib stream after 9 decoded bytes (cut)")
    check_result(result, {PATH: CONTENT}, LIMITS)


def test_a_file_cut_by_its_budget_is_not_a_finding() -> None:
    result = _result(files_read=0)
    result.mark_unreadable(PATH, "not fully inspected: per-file time budget of 5 s exhausted")
    check_result(result, {PATH: CONTENT}, LIMITS)


@pytest.mark.parametrize("result", [
    pytest.param(_result(files_read=0, unreadable=[PATH], unreadable_reasons={PATH: "inspection failed: KeyError"}),
                 id="a detector raised (the scan's catch-all)"),
    pytest.param(_result(findings=[_finding(11)]), id="a literal finding where the file does not hold it"),
    pytest.param(_result(findings=[_finding(len(CONTENT))]), id="a finding past the end of the file"),
    pytest.param(_result(unreadable=[f"{PATH}#x"], unreadable_reasons={f"{PATH}#x": "two\nlines"}),
                 id="a reason on two lines"),
    pytest.param(_result(files_read=0), id="a file neither read nor reported"),
    pytest.param(_result(decoded_bytes=1 << 40), id="decoding past every budget"),
])
def test_a_broken_result_is_a_finding(result: InspectionResult) -> None:
    with pytest.raises(ContractBroken):
        check_result(result, {PATH: CONTENT}, LIMITS)


# What the harnesses found, pinned on the public API (the inputs themselves replay from fuzz/regressions/).

def test_a_base64_run_ending_in_one_character_is_scanned_not_a_crash(tmp_path: Path) -> None:
    (tmp_path / "notes.json").write_text('{"note": "some text UEsDB"}')  # a ZIP magic's base64, cut short
    result = inspect_tree(tmp_path, canaries=[CANARIES[0]])
    assert result.files_read == 1 and not result.unreadable


def test_sqlite_errors_quoting_names_from_the_file_stay_one_line(tmp_path: Path) -> None:
    con = sqlite3.connect(tmp_path / "store.db")
    con.execute("CREATE TABLE ab(x TEXT)")
    con.commit()
    con.execute("PRAGMA writable_schema=ON")
    con.execute("UPDATE sqlite_master SET name = 'a' || char(10) || 'b', sql = 'CREATE TABLE x(' || char(10)")
    con.commit()
    con.close()
    result = inspect_tree(tmp_path, canaries=[CANARIES[0]])
    assert result.unreadable and all("\n" not in reason for reason in result.unreadable_reasons.values())


def test_a_duckdb_value_python_cannot_hold_makes_only_its_table_unreadable(tmp_path: Path) -> None:
    con = duckdb.connect()
    con.execute(f"ATTACH '{tmp_path / 'analytics.duckdb'}' AS x")
    con.execute("CREATE TABLE x.a AS SELECT INTERVAL 2000000000 MONTHS AS span")
    con.execute("CREATE TABLE x.b AS SELECT ? AS note", [CANARIES[0]])
    con.execute("DETACH x")
    con.execute(f"COPY (SELECT INTERVAL 2000000000 MONTHS AS span) TO '{tmp_path / 'x.parquet'}' (FORMAT parquet)")
    con.close()
    result = inspect_tree(tmp_path, canaries=[CANARIES[0]])
    assert result.files_read == 2
    assert any(f.container == "duckdb:main.b.note" for f in result.findings)
    assert sorted(w.rsplit("#", 1)[1] for w in result.unreadable) == ["duckdb:main.a", "parquet"]
    assert all("no Python equivalent" in reason for reason in result.unreadable_reasons.values())
