"""Reading values out of DuckDB databases and Parquet files with the real engine, safely.

Connections are read-only, never install or load extensions on their own, run single-threaded with a memory
limit, and have external access disabled except for the one file under inspection: a hostile file cannot make
the inspector read other files or reach the network. Only base tables are read (views could run any query).
DuckDB is imported on first use, so scans that meet no such file do not pay for loading it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from aico_secure.inspector._detector._values import ColumnBatcher

if TYPE_CHECKING:
    import duckdb

BATCH_ROWS = 1024
_CONFIG: dict[str, str | bool | int] = {"autoinstall_known_extensions": False, "autoload_known_extensions": False,
                                        "threads": 1, "memory_limit": "512MB"}


def connect(database: str = ":memory:", *, allow: str | None = None) -> duckdb.DuckDBPyConnection:
    import duckdb  # imported on first use: most scans never meet a DuckDB or Parquet file

    if database == ":memory:":
        con = duckdb.connect(database, config=dict(_CONFIG))
        if allow is not None:
            con.execute(f"SET allowed_paths = ['{allow.replace(chr(39), chr(39) * 2)}']")
        con.execute("SET enable_external_access = false")
        return con
    config: dict[str, str | bool | int] = {**_CONFIG, "enable_external_access": False}
    return duckdb.connect(database, read_only=True, config=config)  # type: ignore[arg-type]


def feed_query(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[object], prefix: str,
               batcher: ColumnBatcher) -> None:
    """Every value of the query's result into ``batcher``, column by column, in bounded batches of rows."""
    cursor = con.execute(sql, list(params))
    columns = [f"{prefix}{d[0]}" for d in cursor.description or ()]
    while True:
        rows = cursor.fetchmany(BATCH_ROWS)
        if not rows:
            return
        for row in rows:
            if not all(batcher.add(c, v) for c, v in zip(columns, row, strict=True)):
                return


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def base_tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str]]:
    rows = con.execute("SELECT database_name, schema_name, table_name FROM duckdb_tables() "
                       "WHERE NOT internal AND NOT temporary ORDER BY 1, 2, 3").fetchall()
    return [(str(a), str(b), str(c)) for a, b, c in rows]
