"""Is there human-readable prose in decoded container content? Evidence that a store keeps user text in clear.

Used only on values a container decoder produced (SQLite and DuckDB cells, Parquet values, SST data blocks),
never on plain files: logs and configs are prose by design. A hit needs a run of at least six words separated
by single spaces (optionally after punctuation) containing at least two distinct function words of a natural
language. That rejects identifiers, base64 and hex ciphertext, JSON (``": "`` separators) and SQL schema text
(keywords, no function words; values holding DDL, such as migration scripts with their comments, are skipped),
while an ordinary sentence in English, German, French or Spanish passes.
"""

from __future__ import annotations

import re

_SCHEMA_TEXT = re.compile(rb"\b(?:CREATE|ALTER|DROP)\s+(?:VIRTUAL\s+)?(?:TABLE|INDEX|VIEW|TRIGGER)\b", re.IGNORECASE)
_RUN = re.compile(rb"(?:[A-Za-z\xc0-\xff][A-Za-z\x80-\xff']{0,23}[,.;:!?]?[ ]){5,}[A-Za-z\x80-\xff']{1,24}")
_WORD = re.compile(rb"[A-Za-z\x80-\xff']+")
FUNCTION_WORDS = frozenset(
    b"the and of to is you that it was my your with for this have are be we he she they me her his our i a an "
    b"der die das und ist ich nicht mit ein eine le la les et est je pas avec une el los las y es que con una".split()
)


def readable_text(data: bytes | memoryview) -> tuple[int, int] | None:
    """``(start, end)`` of the first prose run in ``data``, or None."""
    if _SCHEMA_TEXT.search(data):
        return None  # schema and migration scripts are the engine's own text, comments included
    for match in _RUN.finditer(data):
        words = {w.lower() for w in _WORD.findall(match.group(0))}
        if len(words & FUNCTION_WORDS) >= 2:
            return match.start(), match.end()
    return None
