"""Recognising a report this tool wrote, so ``--output`` inside the inspected directory is not inspected later.

A report lists the canaries it searched for, so a report written into the directory would be a "finding" on the
next run. Every report carries one digest marker, ``aico-secure-inspection-digest:sha256:<hex>``: the SHA-256 of
the whole report with the hex replaced by zeros. The scan skips a file only when **both** hold: it is the path
this run writes its report to (``--output``), and its digest verifies. So a data file the build wrote is never
skipped (it would have to sit at exactly the ``--output`` path and be a byte-exact report), a report at any
other path is inspected like every file (and its canaries are reported: they are readable there), and an edited
report no longer verifies. What is skipped is about to be replaced by this run's report anyway.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from pathlib import Path

PREFIX = "aico-secure-inspection-digest:sha256:"
PLACEHOLDER = PREFIX + "0" * 64
_MARKER = re.compile(re.escape(PREFIX).encode() + rb"([0-9a-f]{64})")
MAX_REPORT_BYTES = 256 << 20


def seal(text: str) -> str:
    """Fill in the digest of a rendered report that contains ``PLACEHOLDER`` exactly once."""
    if text.count(PLACEHOLDER) != 1:
        raise ValueError("a report must carry exactly one digest placeholder")
    digest = hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()
    return text.replace(PLACEHOLDER, PREFIX + digest)


def verifies(data: bytes) -> bool:
    markers = list(_MARKER.finditer(data))
    if len(markers) != 1:
        return False
    m = markers[0]
    zeroed = data[:m.start(1)] + b"0" * 64 + data[m.end(1):]
    return hashlib.sha256(zeroed).hexdigest().encode() == m.group(1)


def is_own_report(path: Path) -> bool:
    """True if ``path`` is a regular file (not a link), at most 256 MiB, whose digest marker verifies."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return False
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_REPORT_BYTES:
            return False
        chunks = []
        while piece := os.read(fd, 1 << 20):
            chunks.append(piece)
        return verifies(b"".join(chunks))
    except OSError:
        return False
    finally:
        os.close(fd)
