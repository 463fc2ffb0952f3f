"""Reading values out of DuckDB databases and Parquet files with the real engine, safely.

Connections are read-only, never install or load extensions on their own, run single-threaded with a memory
limit, and have external access disabled except for the one file under inspection: a hostile file cannot make
the inspector read other files or reach the network. Only base tables are read (views could run any query).

These functions run only inside the isolated reader's child process (``_isolated``): a file can crash the
engine itself, and that must end a disposable process, not the inspection.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb

BATCH_ROWS = 1024
_CONFIG: dict[str, str | bool | int] = {"autoinstall_known_extensions": False, "autoload_known_extensions": False,
                                        "threads": 1, "memory_limit": "512MB"}


def connect(database: str = ":memory:", *, allow: str | None = None) -> duckdb.DuckDBPyConnection:
    import duckdb

    if database == ":memory:":
        con = duckdb.connect(database, config=dict(_CONFIG))
        if allow is not None:
            con.execute(f"SET allowed_paths = ['{allow.replace(chr(39), chr(39) * 2)}']")
        con.execute("SET enable_external_access = false")
        return con
    config: dict[str, str | bool | int] = {**_CONFIG, "enable_external_access": False}
    return duckdb.connect(database, read_only=True, config=config)  # type: ignore[arg-type]


def batches(cursor: duckdb.DuckDBPyConnection) -> Iterator[list[tuple[Any, ...]]]:
    """The rows of ``cursor``'s result in bounded batches, so a table of any size is read with bounded memory."""
    while True:
        try:
            rows = cursor.fetchmany(BATCH_ROWS)
        except (OverflowError, ValueError) as exc:
            # A file can hold values Python has no type for (an INTERVAL of 2**31 months): the engine reads them,
            # the conversion to Python fails. Report it as the engine error it is, so the table is recorded as
            # not readable like any other the engine cannot read, instead of stopping the whole file's scan.
            import duckdb

            raise duckdb.ConversionException(f"a value has no Python equivalent ({type(exc).__name__})") from None
        if not rows:
            return
        yield rows


def error_line(exc: BaseException) -> str:
    """DuckDB's message as a reason: its first line, capped. Internal errors append a multi-line explanation,
    and a reason is one line of a report."""
    lines = str(exc).strip().splitlines()
    return (lines[0] if lines else type(exc).__name__)[:200]


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def base_tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str]]:
    rows = con.execute("SELECT database_name, schema_name, table_name FROM duckdb_tables() "
                       "WHERE NOT internal AND NOT temporary ORDER BY 1, 2, 3").fetchall()
    return [(str(a), str(b), str(c)) for a, b, c in rows]
