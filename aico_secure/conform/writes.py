"""Watch every file a build writes while the suite drives it, wherever the build puts it.

A leak scan that only reads the directory it handed the build misses the per-user session file in
``~/.cache``, the temp file in ``$TMPDIR`` and the history file in ``$XDG_STATE_HOME``. So, for the whole run:

* ``redirect_environment`` points ``HOME``, ``TMPDIR`` and every ``XDG_*`` base directory (and
  ``tempfile.tempdir``) at private directories the suite owns, before the target is loaded, so a build that
  follows the platform's conventions writes where the suite can read;
* ``watch_writes`` records, while a test drives the build, every path Python code opens for writing anywhere
  (``sys.addaudithook``: ``open`` with its mode or flags, ``os.open``, renames, ``shutil`` copies, ``mkstemp``,
  ``mkdir``, SQLite databases), and diffs a stat snapshot of the suite's directories and the given directories
  before and after, which is how writes from native code (SQLCipher, RocksDB, DuckDB) are seen;
* a file the build removes or replaces after writing it during the watch is hard-linked aside first, so a
  secret written to a temp file and deleted a moment later is still scanned.

``scan_written`` then runs the inspector over exactly those files (every encoding it knows), ``loose_modes``
lists any of them readable by others, and ``Watch.outside`` lists writes that left both the given directories
and the suite's: those are findings themselves, because the suite cannot vouch for what it cannot read back.
Native code that ignores the environment and writes to a hard-coded path is not seen; see
docs/target-contract.md.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import stat
import sys
import tempfile
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aico_secure.inspector.model import Finding, InspectionResult

XDG_NAMES = ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME", "XDG_RUNTIME_DIR")
_TEMP_NAMES = ("TMPDIR", "TEMP", "TMP")
_BASE_ENV = "AICO_SECURE_WATCH_BASE"  # the real temp directory, so xdist workers do not nest in the controller's
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


# ---- the environment every build of the run sees ------------------------------------------------------------
@dataclass
class Redirection:
    """The suite-owned directories of one process and what they replaced (restored by ``restore``)."""

    root: Path
    dirs: dict[str, Path]
    _saved_env: dict[str, str | None] = field(default_factory=dict)
    _saved_tempdir: str | None = None
    _previous: Redirection | None = None  # an outer run's (pytester inside a conformance run): back in force after

    @property
    def roots(self) -> list[Path]:
        return sorted(set(self.dirs.values()))

    def restore(self) -> None:
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        tempfile.tempdir = self._saved_tempdir
        global _REDIRECTION
        if _REDIRECTION is self:
            _REDIRECTION = self._previous
        shutil.rmtree(self.root, ignore_errors=True)


_REDIRECTION: Redirection | None = None


def current_redirection() -> Redirection | None:
    return _REDIRECTION


def redirect_environment() -> Redirection:
    """Point ``HOME``, ``TMPDIR`` and the ``XDG_*`` directories of this process (and its children) at fresh
    private (0700) directories; ``tempfile.tempdir`` too, since ``tempfile`` caches its first answer.

    pytest's own temporary directories stay where they were (``PYTEST_DEBUG_TEMPROOT``): the directories a
    test gives a build are the suite's already, and they must outlive this redirection for debugging."""
    global _REDIRECTION
    real_tmp = os.environ.get(_BASE_ENV) or tempfile.gettempdir()
    root = Path(os.path.realpath(tempfile.mkdtemp(prefix="aico-suite-env-", dir=real_tmp)))
    dirs = {"HOME": root / "home", "TMPDIR": root / "tmp"}
    dirs.update({name: root / name.lower().replace("xdg_", "xdg-") for name in XDG_NAMES})
    for path in dirs.values():
        path.mkdir(mode=0o700)
    saved = {name: os.environ.get(name) for name in ("HOME", *_TEMP_NAMES, *XDG_NAMES, _BASE_ENV,
                                                     "PYTEST_DEBUG_TEMPROOT")}
    os.environ.setdefault("PYTEST_DEBUG_TEMPROOT", real_tmp)
    os.environ[_BASE_ENV] = real_tmp
    os.environ["HOME"] = str(dirs["HOME"])
    for name in _TEMP_NAMES:
        os.environ[name] = str(dirs["TMPDIR"])
    for name in XDG_NAMES:
        os.environ[name] = str(dirs[name])
    redirection = Redirection(root, dirs, saved, tempfile.tempdir, _REDIRECTION)
    tempfile.tempdir = str(dirs["TMPDIR"])
    _REDIRECTION = redirection
    return redirection


# ---- what one watch saw -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Written:
    """One file the build wrote: where, whether that was inside a given directory, the suite's directories
    or outside both, and (if the build removed or replaced it) the hard link that kept its bytes."""

    path: Path
    where: str  # "given" | "suite" | "outside"
    kept: Path | None = None

    @property
    def readable_at(self) -> Path:
        return self.kept if self.kept is not None else self.path


_Stat = tuple[int, int, int, int]  # inode, size, mtime_ns, mode


def _stat_tree(roots: Iterable[Path], skip: Path) -> dict[Path, _Stat]:
    found: dict[Path, _Stat] = {}
    for root in roots:
        for directory, subdirs, files in os.walk(root):
            here = Path(directory)
            if here == skip or skip in here.parents:
                subdirs[:] = []
                continue
            for name in [*files, *subdirs]:
                path = here / name
                with contextlib.suppress(OSError):
                    st = path.lstat()
                    found[path] = (st.st_ino, st.st_size, st.st_mtime_ns, st.st_mode)
    return found


class Watch:
    """Everything written while one ``watch_writes`` block ran."""

    def __init__(self, given: Iterable[Path], suite_roots: Iterable[Path], scratch: Path) -> None:
        self.given = [Path(os.path.realpath(p)) for p in given]
        self.suite_roots = [Path(os.path.realpath(p)) for p in suite_roots]
        self.scratch = scratch
        self._files: set[Path] = set()
        self._dirs: set[Path] = set()
        self._kept: dict[Path, list[Path]] = {}
        self._counter = itertools.count()
        self._lock = threading.Lock()
        self.errors: list[str] = []
        self._before = _stat_tree(self._snapshot_roots(), scratch)

    def _snapshot_roots(self) -> list[Path]:
        return [p for p in [*self.given, *self.suite_roots] if p.is_dir()]

    def _ours(self, path: Path) -> bool:
        """The suite's own bookkeeping (kept links, scan staging) is never the build's write."""
        return path == self.scratch or self.scratch in path.parents

    def where(self, path: Path) -> str:
        if any(path == g or g in path.parents for g in self.given):
            return "given"
        if any(path == r or r in path.parents for r in self.suite_roots):
            return "suite"
        return "outside"

    # -- fed by the audit hook (any thread) --
    def saw_file(self, path: Path) -> None:
        if self._ours(path):
            return
        with self._lock:
            self._files.add(path)

    def saw_dir(self, path: Path) -> None:
        if self._ours(path):
            return
        with self._lock:
            self._dirs.add(path)

    def keep(self, path: Path) -> None:
        """Before the build removes or replaces ``path``: keep its bytes if it wrote them during the watch (every
        version: a file replaced twice leaves two kept links)."""
        with self._lock:
            if path not in self._files or not path.is_file() or path.is_symlink():
                return
            dest = self.scratch / f"kept-{next(self._counter):05d}"
            try:
                os.link(path, dest, follow_symlinks=False)
            except OSError:
                try:
                    shutil.copy2(path, dest)
                except OSError as exc:
                    self.errors.append(f"could not keep {path} before it was removed: {exc.strerror or exc}")
                    return
            self._kept.setdefault(path, []).append(dest)

    def moved(self, src: Path, dst: Path) -> None:
        self.saw_file(dst)

    def removed_tree(self, root: Path) -> None:
        for path in [p for p in list(self._files) if root in p.parents]:
            self.keep(path)

    # -- read by the tests --
    def finish(self) -> None:
        after = _stat_tree(self._snapshot_roots(), self.scratch)
        for path, st in after.items():
            if self._before.get(path) != st:
                (self._dirs if stat.S_ISDIR(st[3]) else self._files).add(path)

    def written(self) -> list[Written]:
        """Every file written during the watch that can still be read: where it is now, and every version the
        build removed or replaced (by its kept link)."""
        found = []
        for path in sorted(self._files):
            if path.is_file() and not path.is_symlink():
                found.append(Written(path, self.where(path)))
            found += [Written(path, self.where(path), kept) for kept in self._kept.get(path, [])]
        return found

    def created_dirs(self) -> list[Path]:
        return sorted(p for p in self._dirs if p.is_dir())

    def outside(self) -> list[Path]:
        """Files and directories written outside the given directories and the suite's own (devices such as
        ``/dev/null`` are not storage and are left out)."""
        return sorted(p for p in self._files | self._dirs if self.where(p) == "outside" and not _is_device(p))


def _is_device(path: Path) -> bool:
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


# ---- the audit hook (installed once per process; inert while nothing is watched) ----------------------------
_ACTIVE: list[Watch] = []
_INSTALLED = False
_LOCAL = threading.local()


def _as_path(value: Any) -> Path | None:
    if isinstance(value, int) or value is None:
        return None  # a descriptor: its path was recorded when it was opened
    try:
        raw = os.fsdecode(os.fspath(value))
    except TypeError:
        return None
    if not raw or raw == ":memory:" or raw.startswith("file:"):
        return None
    return Path(os.path.realpath(raw))


def _opens_for_writing(mode: Any, flags: Any) -> bool:
    if isinstance(mode, str) and any(c in mode for c in "wax+"):
        return True
    return isinstance(flags, int) and bool(flags & _WRITE_FLAGS)


def _dispatch(event: str, args: tuple[Any, ...]) -> None:
    for watch in list(_ACTIVE):
        if event == "open" and len(args) >= 3 and _opens_for_writing(args[1], args[2]):
            path = _as_path(args[0])
            if path is not None:
                watch.saw_file(path)
        elif event in ("tempfile.mkstemp", "sqlite3.connect", "os.truncate") and args:
            path = _as_path(args[0])
            if path is not None:
                watch.saw_file(path)
        elif event in ("os.mkdir", "tempfile.mkdtemp") and args:
            path = _as_path(args[0])
            if path is not None:
                watch.saw_dir(path)
        elif event in ("os.rename", "shutil.copyfile", "shutil.copytree", "shutil.move", "os.link") \
                and len(args) >= 2:
            src, dst = _as_path(args[0]), _as_path(args[1])
            if dst is not None:
                watch.keep(dst)  # about to be replaced
                if event == "shutil.copytree":
                    watch.saw_dir(dst)
                else:
                    watch.moved(src or dst, dst)
        elif event == "os.remove" and args:
            path = _as_path(args[0])
            if path is not None:
                watch.keep(path)
        elif event == "shutil.rmtree" and args:
            path = _as_path(args[0])
            if path is not None:
                watch.removed_tree(path)


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if not _ACTIVE or getattr(_LOCAL, "busy", False):
        return
    _LOCAL.busy = True  # keeping a file opens it: that must not be watched again
    try:
        _dispatch(event, args)
    except Exception as exc:  # noqa: BLE001 - a hook must never break the build; the watch reports it instead
        for watch in list(_ACTIVE):
            watch.errors.append(f"write watch failed on {event}: {type(exc).__name__}")
    finally:
        _LOCAL.busy = False


def install_hook() -> None:
    """Add the audit hook once; it cannot be removed, so it does nothing unless a watch is active."""
    global _INSTALLED
    if not _INSTALLED:
        sys.addaudithook(_hook)
        _INSTALLED = True


@contextlib.contextmanager
def watch_writes(*given: Path) -> Iterator[Watch]:
    """Record every write while the block runs. ``given`` are the directories the test handed the build."""
    install_hook()
    redirection = current_redirection()
    roots = redirection.roots if redirection is not None else []
    base = redirection.root if redirection is not None else Path(tempfile.gettempdir())
    scratch = Path(os.path.realpath(tempfile.mkdtemp(prefix="aico-watch-", dir=base)))
    watch = Watch(given, roots, scratch)
    _ACTIVE.append(watch)
    try:
        yield watch
    finally:
        _ACTIVE.remove(watch)
        watch.finish()


def discard(watch: Watch) -> None:
    """Remove the links a watch kept (they may hold the very secrets it found)."""
    shutil.rmtree(watch.scratch, ignore_errors=True)


# ---- what tests do with a watch -----------------------------------------------------------------------------
@dataclass
class WatchScan:
    result: InspectionResult
    files: list[Written]

    def located(self) -> list[tuple[Written, Finding]]:
        """Each finding with the file the build wrote it to, for checks that judge by where a secret is."""
        return [(self.files[int(Path(f.path).name)], f) for f in self.result.findings]

    def findings(self) -> list[str]:
        """One line per finding, naming the file where the build wrote it (never the secret)."""
        lines = []
        for finding in self.result.findings:
            item = self.files[int(Path(finding.path).name)]
            how = ", removed after writing" if item.kept is not None else ""
            lines.append(f"{item.path} ({item.where}{how})@{finding.offset}: {finding.label} as "
                         f"{finding.encoding} in {finding.container}")
        return lines


def scan_written(watch: Watch, *, secrets: Mapping[str, bytes] | None = None, canaries: Iterable[str] = (),
                 vectors: Iterable[Any] = ()) -> WatchScan:
    """Inspect every file of ``watch`` (kept ones included) for ``secrets`` and ``canaries`` in every encoding
    the inspector knows. The files are hard-linked (or, across filesystems, copied) into one private staging
    directory named by index, so one ``inspect_tree`` reads exactly them; the staging directory is removed."""
    from aico_secure.inspector import inspect_tree  # the decoders are heavy: only a scan pays for them

    files = watch.written()
    staging = Path(tempfile.mkdtemp(prefix="stage-", dir=watch.scratch))
    try:
        for index, item in enumerate(files):
            dest = staging / f"{index}"
            try:
                os.link(item.readable_at, dest, follow_symlinks=False)
            except OSError:
                shutil.copyfile(item.readable_at, dest)
        result = inspect_tree(staging, canaries=canaries, keys=list((secrets or {}).items()), vectors=vectors)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return WatchScan(result, files)


def loose_modes(watch: Watch) -> list[str]:
    """Files written anywhere that are readable or writable by group or others, and directories created
    outside the given directories that are (a given directory's parent is the suite's, already private)."""
    problems = []
    for item in watch.written():
        mode = stat.S_IMODE(item.readable_at.stat().st_mode)
        if mode & 0o077:
            problems.append(f"{item.path} ({item.where}) has mode {oct(mode)}")
    for directory in watch.created_dirs():
        if watch.where(directory) == "given":
            continue
        mode = stat.S_IMODE(directory.stat().st_mode)
        if mode & 0o077:
            problems.append(f"directory {directory} ({watch.where(directory)}) has mode {oct(mode)}")
    return problems


def not_owner_only(paths: Iterable[Path], given: Path) -> list[str]:
    """Files in ``paths`` that group or others may access, and the directories above them that may be: up to
    and including ``given`` (the directory the test handed the build), or up to the suite's own directories
    (already private); a file elsewhere has only its own directory checked."""
    stops = {Path(os.path.realpath(r)) for r in (_REDIRECTION.roots if _REDIRECTION is not None else [])}
    top = Path(os.path.realpath(given))
    problems: list[str] = []
    checked: set[Path] = set()
    for raw in paths:
        path = Path(os.path.realpath(raw))
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            problems.append(f"{path} has mode {oct(mode)}")
        chain = [path.parent]
        if top == path.parent or top in path.parents:
            chain = [d for d in path.parents if d == top or top in d.parents]
        elif any(s in path.parents for s in stops):
            chain = [d for d in path.parents if not any(d == s or d in s.parents for s in stops)]
        for directory in chain:
            if directory in checked:
                continue
            checked.add(directory)
            dmode = stat.S_IMODE(directory.stat().st_mode)
            if dmode & 0o077:
                problems.append(f"directory {directory} has mode {oct(dmode)}")
    return problems
