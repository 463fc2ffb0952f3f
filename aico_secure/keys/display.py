"""Paths in messages: one printable line, whatever bytes the file name holds.

File names may hold bytes that are not UTF-8 (decoded by Python as lone surrogates) or control characters such
as a newline; printed raw they crash a strict stdout or split a one-line error into two. Escaping keeps every
message one line and still names the file unambiguously.
"""

from __future__ import annotations

import os
from pathlib import PurePath


def shown(path: str | PurePath) -> str:
    text = os.fspath(path)
    escaped = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in escaped)
