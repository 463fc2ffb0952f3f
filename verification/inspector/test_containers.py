"""Plaintext containers: SQLite, DuckDB, Parquet (real files from the real engines), JSON and text files."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import duckdb
import duckdb_extensions

from verification.inspector.conftest import Inspect

PROSE = "I told my sister about the diagnosis and she said that it was not my fault at all"


def test_plaintext_sqlite_cells_are_decoded_even_across_overflow_pages(tmp_path: Path, inspect: Inspect,
                                                                       canary: str) -> None:
    con = sqlite3.connect(tmp_path / "app.db")
    con.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    page = con.execute("PRAGMA page_size").fetchone()[0]
    # A value longer than a page: SQLite splits it over overflow pages, whose headers cut it in the file.
    for cut in range(page - 64, page + 64, 7):
        con.execute("INSERT INTO notes (body) VALUES (?)", ("x" * cut + canary + "y" * 100,))
    con.execute("INSERT INTO notes (body) VALUES (?)", (PROSE,))
    con.commit()
    con.close()
    result = inspect(canaries=[canary])
    decoded = [f for f in result.findings if f.container == "sqlite:notes.body" and f.encoding == "utf-8"]
    assert decoded, "the canary in SQLite cells was not found decoded"
    medium = [f for f in result.findings if f.label == "container:sqlite"]
    assert [f.severity for f in medium] == ["medium"] and "notes.body" in medium[0].detail


def test_sqlite_holding_only_ciphertext_and_schema_is_not_a_finding(tmp_path: Path, inspect: Inspect) -> None:
    con = sqlite3.connect(tmp_path / "index.sqlite3")
    con.execute("CREATE TABLE migrations (sql TEXT)")
    con.execute("INSERT INTO migrations VALUES (?)", ("-- This table is only used to record the vacuum runs of "
                                                      "the database\nCREATE TABLE maintenance (id INTEGER)",))
    con.execute("CREATE TABLE items (id TEXT, sealed BLOB)")
    con.execute("INSERT INTO items VALUES ('a1', randomblob(200))")
    con.commit()
    con.close()
    result = inspect(canaries=["cnry-never-written"])
    assert not result.findings and result.clean


def _plain_duckdb(path: Path, canary: str) -> None:
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE events AS SELECT 'event ' || i || ' ' || ? AS note FROM range(5000) r(i)", [canary])
    con.execute("CREATE TABLE embeddings (v FLOAT[])")
    con.close()


def test_plaintext_duckdb_is_a_container_finding_and_its_values_are_decoded(tmp_path: Path, inspect: Inspect,
                                                                            canary: str) -> None:
    _plain_duckdb(tmp_path / "analytics.duckdb", canary)
    assert canary.encode() not in (tmp_path / "analytics.duckdb").read_bytes(), "DuckDB compresses strings"
    result = inspect(canaries=[canary])
    assert any(f.label == "container:duckdb" and f.severity == "medium" for f in result.findings)
    assert any(f.container == "duckdb:main.events.note" and f.label == f"canary:{canary}" for f in result.findings)


def test_encrypted_duckdb_is_clean(tmp_path: Path, inspect: Inspect, canary: str) -> None:
    duckdb_extensions.import_extension("httpfs")
    con = duckdb.connect()
    con.execute("LOAD httpfs")
    key = "k" * 32
    con.execute(f"ATTACH '{tmp_path / 'secure.duckdb'}' AS s (ENCRYPTION_KEY '{key}')")
    con.execute("CREATE TABLE s.events AS SELECT ? || i AS note FROM range(1000) r(i)", [canary])
    con.execute("DETACH s")
    con.close()
    result = inspect(canaries=[canary])
    assert result.clean, result.findings[:3]
    assert any(o.detector == "duckdb" and "encrypted" in o.detail for o in result.observations)


def test_parquet_export_is_found_and_decoded(tmp_path: Path, inspect: Inspect, canary: str) -> None:
    con = duckdb.connect()
    con.execute(f"COPY (SELECT 'row ' || i || ' ' || ? AS note FROM range(3000) r(i)) TO "
                f"'{tmp_path / 'export.parquet'}' (FORMAT parquet, COMPRESSION zstd)", [canary])
    con.close()
    result = inspect(canaries=[canary])
    assert any(f.label == "container:parquet" and f.severity == "medium" for f in result.findings)
    assert any(f.container == "parquet:note" and f.label == f"canary:{canary}" for f in result.findings)


def test_json_and_text_files_are_labelled(tmp_path: Path, inspect: Inspect, canary: str) -> None:
    (tmp_path / "crash-report.json").write_text(json.dumps({"last_message": canary}, ensure_ascii=False))
    (tmp_path / "debug.log").write_text(f"DEBUG saving {canary}\n")
    containers = {(Path(f.path).name, f.container) for f in inspect(canaries=[canary]).findings}
    assert {("crash-report.json", "json"), ("debug.log", "text")} <= containers
