"""Embedding canaries stored as little-endian float32 or float64, exactly or within a small tolerance, and as
float16, bfloat16, int8 or uint8 (see ``_lowprec``: exact literal runs of the ways writers round them).

An embedding is as personal as the text it came from, and vector stores write it in the clear unless told
otherwise (an HNSW index file, a BLOB column). A literal search misses a vector that was rounded, re-encoded
or normalised (hnswlib normalises for cosine space), so this detector compares numbers instead of bytes:

* each vector is split into blocks of ``run // 2`` components and one *anchor* (the largest-magnitude
  component) is taken per block, so any run of ``run`` consecutive components contains a whole block and
  hence an anchor;
* every window is viewed as floats at each byte alignment (4 for float32, 8 for float64); a cheap magnitude
  band rejects almost all of them, ``searchsorted`` finds the anchors a survivor is close to;
* a candidate is then checked component by component around the anchor, and reported when at least ``run``
  consecutive components agree (``run`` = 16, or the whole vector when shorter), at least half of them
  informative (not near zero: zero runs are everywhere on disk).

The match is reported as ``exact`` when every compared component is bit-identical, else ``tolerance``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from aico_secure.inspector._detector import _lowprec
from aico_secure.inspector.interface import Detector, Scope, Stream, Window
from aico_secure.inspector.needles import Needles, Pattern

RUN = 16
RTOL = 1e-3
ATOL = 1e-6

FloatArray = npt.NDArray[np.floating]


@dataclass(frozen=True)
class _Form:
    index: int  # which vector canary
    encoding: str  # "float32-le", "float64-le/normalized", ...
    values: FloatArray  # in the stored dtype
    tol: FloatArray  # per-component tolerance
    run: int
    informative: npt.NDArray[np.bool_]


class _Group:
    """All forms of one dtype, with their anchors sorted by value for ``searchsorted``."""

    def __init__(self, dtype: str, forms: list[_Form]) -> None:
        self.dtype = np.dtype(dtype)
        self.itemsize = self.dtype.itemsize
        self.forms = forms
        refs: list[tuple[float, int, int]] = []
        for f_index, form in enumerate(forms):
            block = max(1, form.run // 2)
            for start in range(0, len(form.values), block):
                part = np.abs(form.values[start:start + block].astype(np.float64))
                j = start + int(np.argmax(part))
                refs.append((float(form.values[j]), f_index, j))
        refs.sort()
        self.anchor_values = np.array([r[0] for r in refs], dtype=np.float64)
        self.anchor_refs = [(r[1], r[2]) for r in refs]
        magnitudes = np.abs(self.anchor_values)
        self.max_tol = max(float(np.max(f.tol)) for f in forms)
        self.low = max(0.0, float(np.min(magnitudes)) - self.max_tol)
        self.high = float(np.max(magnitudes)) + self.max_tol
        self.lookback = max(len(f.values) for f in forms) * self.itemsize


def _forms(needles: Needles) -> list[_Form]:
    forms: list[_Form] = []
    for index, vector in enumerate(needles.vectors):
        base = np.array(vector, dtype=np.float64)
        variants = [("", base)]
        norm = float(np.linalg.norm(base))
        if norm > 0 and abs(norm - 1.0) > 1e-3:
            variants.append(("/normalized", base / norm))
        run = min(RUN, len(base))
        for suffix, values in variants:
            for dtype, name in (("<f4", "float32-le"), ("<f8", "float64-le")):
                stored = values.astype(dtype)
                tol = (ATOL + RTOL * np.abs(values)).astype(np.float64)
                informative = np.abs(values) > 10 * ATOL
                forms.append(_Form(index, name + suffix, stored, tol, run, informative))
    return forms


class VectorDetector(Detector):
    name = "vector"
    scans_windows = True

    def __init__(self) -> None:
        self._groups: list[_Group] = []
        self._low_len = 0

    def prepare(self, needles: Needles) -> list[Pattern]:
        patterns = [Pattern(f"vector:{index}", encoding, literal, self.name)
                    for index, vector in enumerate(needles.vectors)
                    for encoding, literal, _first in _lowprec.runs(vector)]
        self._low_len = max((len(p.needle) for p in patterns), default=0)
        forms = _forms(needles)
        self._groups = []
        for dtype in ("<f4", "<f8"):
            chosen = [f for f in forms if f.values.dtype == np.dtype(dtype)]
            if chosen:
                self._groups.append(_Group(dtype, chosen))
        return patterns

    def matched(self, scope: Scope, stream: Stream, window: Window, pattern: Pattern, start: int, end: int) -> None:
        """A run of a low-precision form: overlapping runs of one stored vector are reported once."""
        offset = window.start + start
        seen: dict[tuple[str, str], int] = stream.state.setdefault(f"{self.name}/low", {})
        key = (pattern.label, pattern.encoding)
        if offset < seen.get(key, -1):
            seen[key] = max(seen[key], window.start + end + self._low_len)
            return
        seen[key] = window.start + end + self._low_len
        scope.report(stream, offset, pattern.label, f"{pattern.encoding}/exact", detector=self.name,
                     detail=f"a run of {_lowprec.RUN} components stored as {pattern.encoding}")

    def lookback(self) -> int:
        return max((g.lookback for g in self._groups), default=0)

    def scan(self, scope: Scope, stream: Stream, window: Window) -> None:
        if not self._groups:
            return
        data = window.data
        for group in self._groups:
            for align in range(group.itemsize):
                count = (len(data) - align) // group.itemsize
                if count <= 0:
                    continue
                floats = np.frombuffer(data, dtype=group.dtype, count=count, offset=align)
                with np.errstate(invalid="ignore", over="ignore"):
                    magnitude = np.abs(floats)
                    candidates = np.flatnonzero((magnitude >= group.low) & (magnitude <= group.high))
                if candidates.size == 0:
                    continue
                with np.errstate(invalid="ignore", over="ignore"):
                    values = floats[candidates].astype(np.float64)
                lo = np.searchsorted(group.anchor_values, values - group.max_tol, side="left")
                hi = np.searchsorted(group.anchor_values, values + group.max_tol, side="right")
                for k in np.flatnonzero(hi > lo):
                    for ref in range(int(lo[k]), int(hi[k])):
                        self._verify(scope, stream, window, group, floats, align, int(candidates[k]),
                                     *group.anchor_refs[ref])

    def _verify(self, scope: Scope, stream: Stream, window: Window, group: _Group, floats: FloatArray,
                align: int, at: int, f_index: int, j: int) -> None:
        form = group.forms[f_index]
        first = at - j  # where component 0 would be
        lo_c = max(0, -first)
        hi_c = min(len(form.values), len(floats) - first)
        if hi_c - lo_c < form.run:
            return
        with np.errstate(invalid="ignore", over="ignore"):
            stored = floats[first + lo_c:first + hi_c].astype(np.float64)
            expected = form.values[lo_c:hi_c].astype(np.float64)
            close = np.abs(stored - expected) <= form.tol[lo_c:hi_c]
        k = j - lo_c
        if not close[k]:
            return
        left = k
        while left > 0 and close[left - 1]:
            left -= 1
        right = k + 1
        while right < len(close) and close[right]:
            right += 1
        if right - left < form.run:
            return
        if int(np.count_nonzero(form.informative[lo_c + left:lo_c + right])) * 2 < form.run:
            return
        start_byte = align + (first + lo_c + left) * group.itemsize
        end_byte = align + (first + lo_c + right) * group.itemsize
        offset = window.start + start_byte
        seen: dict[tuple[int, int], int] = stream.state.setdefault(self.name, {})
        if offset < seen.get((group.itemsize, f_index), -1) or end_byte <= window.fresh:
            return
        seen[(group.itemsize, f_index)] = window.start + end_byte
        exact = bool(np.array_equal(floats[first + lo_c + left:first + lo_c + right],
                                    form.values[lo_c + left:lo_c + right]))
        scope.report(stream, offset, f"vector:{form.index}", f"{form.encoding}/{'exact' if exact else 'tolerance'}",
                     detector=self.name,
                     detail=f"components {lo_c + left}..{lo_c + right - 1} of {len(form.values)} match")
