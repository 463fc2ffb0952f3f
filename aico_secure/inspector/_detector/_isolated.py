"""Every DuckDB engine call in a child process: a file that crashes the engine must not end the inspection.

DuckDB is C++, and a hostile database or Parquet file can make it crash: in 1.5.5 one flipped byte in a valid
database segfaults ``SELECT *``. In-process that kills the whole ``aico-secure inspect`` run, so whoever can
write one file into a data directory could stop the ciphertext-at-rest inspection: failing open by crash. So the
engine runs in a fresh interpreter (never a fork of this one: DuckDB has threads), its address space bounded
(``RLIMIT_AS``), in its own process group, killed with that group when the file's time budget runs out.

The child turns every value into the bytes the scan searches (``value_bytes``) and streams them back in bounded
frames; it stops at the decode cap itself, so no more than the cap ever crosses the pipe. Anything but a
complete, well-formed answer (a signal, a non-zero exit, the time budget running out, malformed frames) makes
the file unreadable with a one-line reason, so the verdict can never be clean; what was streamed before is
still scanned, so no finding is hidden by a later crash. The answer is a fixed binary framing parsed with
bounds checks, never pickle: a child whose memory a hostile file corrupted must not run code in the parent.

Starting an interpreter with DuckDB loaded costs about 0.3 s, which a directory of many Parquet files must
not pay per file: one idle child is kept and reused for every file of every inspection in this process. A
child that crashed, timed out or misbehaved is discarded and the next file starts a new one. An idle child
exits on its own after ``IDLE_EXIT`` seconds, and when this process goes away.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import json
import os
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from aico_secure.inspector._detector._values import ColumnBatcher, value_bytes

if TYPE_CHECKING:
    import duckdb

    from aico_secure.inspector.interface import Limits

Kind = Literal["duckdb", "parquet"]

MEMORY_BOUND_MB = 1536  # the child's address space: DuckDB's own 512 MB limit, the interpreter, one batch of rows
IDLE_EXIT = 60.0  # an idle child exits after this many seconds without a request
STALE_AFTER = 20.0  # the parent stops reusing a child idle this long (well before it exits on its own)
MAX_IDLE = 2  # idle children kept (one per thread inspecting concurrently, within reason)
FLUSH_AT = 256 << 10  # value bytes per frame before the child sends it
MAX_REQUEST = 1 << 20

EXIT_MEMORY = 3  # the child ran out of its address space in Python code (DuckDB reports its own as an error)
EXIT_PROTOCOL = 4  # the child got a request it cannot parse

_HEADER = struct.Struct("<cI")  # frame type, payload length
_VALUE = struct.Struct("<IBI")  # column index, RAW or TEXT, length of the bytes that follow
RAW, TEXT = 0, 1
# The engine is the ``duckdb`` extra: a core install reads no cell of a plaintext DuckDB or Parquet file, and says
# so (the file is unreadable, so the inspection is incomplete), rather than let every child die on its import.
ENGINE_MISSING = "the DuckDB engine is not installed, so its values cannot be read: pip install 'aico-secure[duckdb]'"

# Child -> parent frames. T: a table's columns; R: values; E: a table the engine could not read; X: the engine
# refused the whole file; C: the decode cap was reached (the child stopped); D: done; B: the reader itself failed
# (a bug in this code, reported as the scan reports any detector that raises). Parent -> child: Q, the request.
_KINDS = frozenset(bytes([k]) for k in b"TREXCDB")

# The child's command line: a bootstrap run with ``-I`` (no environment variables, no user site, not the current
# directory on sys.path) that imports this module from where the parent found the package. The packages above it
# are registered without running their ``__init__``: those import every detector (numpy, the matcher), which
# would double the child's start-up; the child needs this module, ``_values``, ``_readable`` and ``_duck`` only.
BOOT = ("import sys, types\n"
        "for name in ('aico_secure', 'aico_secure.inspector', 'aico_secure.inspector._detector'):\n"
        "    package = types.ModuleType(name)\n"
        "    package.__path__ = [sys.argv[1] + '/' + name.replace('.', '/')]\n"
        "    sys.modules[name] = package\n"
        "from aico_secure.inspector._detector._isolated import child_main\n"
        "child_main(sys.argv[2:])\n")


class EngineReaderBug(Exception):
    """The child's own Python code raised (not the engine refusing the file): a bug in the reader, surfaced as
    the scan surfaces any detector that raises, so fuzzing still finds it. The message names the exception type
    and where it was raised, never a value."""


@dataclass
class Outcome:
    """What reading one file in the child produced, besides the values already fed to the batcher."""

    refused: str | None = None  # the engine could not open the file at all: its one-line message
    table_errors: list[tuple[str, str]] = field(default_factory=list)  # (where, one-line message)
    failure: str | None = None  # the child crashed, timed out, ran out of memory or answered garbage
    capped: bool = False  # the decode cap stopped the reading (the batcher is marked capped too)


class EngineClock:
    """The time left for an engine call: what remains of the file's budget (and of the run's, if any).

    The engine runs in a child process that cannot check the scan's budget between rows, so the child is given
    the rest of it as a deadline. The file's clock starts at ``begin_file``, the run's when the detector is
    created (detectors are instantiated per inspection).
    """

    def __init__(self) -> None:
        self._run_started = self._file_started = time.monotonic()

    def start_file(self) -> None:
        self._file_started = time.monotonic()

    def seconds_left(self, limits: Limits) -> float:
        now = time.monotonic()
        left = limits.file_seconds - (now - self._file_started)
        if limits.run_seconds is not None:
            left = min(left, limits.run_seconds - (now - self._run_started))
        return max(0.0, left)


def read(kind: Kind, path: Path, batcher: ColumnBatcher, *, cap: int, seconds: float) -> Outcome:
    """Read every value of the DuckDB database or Parquet file at ``path`` into ``batcher``, in a child process,
    within ``seconds`` of wall-clock time and ``cap`` bytes of values.

    Raises ``EngineReaderBug`` when the reader's own code failed; whatever the scan raises while values are fed
    (a budget running out) propagates, and the child, left mid-answer, is killed.
    """
    outcome = Outcome()
    if importlib.util.find_spec("duckdb") is None:
        outcome.failure = ENGINE_MISSING
        return outcome
    deadline = time.monotonic() + max(0.0, seconds)
    try:
        child = _acquire()
    except OSError as exc:
        outcome.failure = f"cannot start the duckdb engine process: {exc.strerror or type(exc).__name__}"
        return outcome
    finished = False  # the child answered to the end and can be reused; otherwise it is killed
    try:
        child.send(b"Q", json.dumps({"kind": kind, "path": str(path), "cap": cap}).encode())
        _answer(child, batcher, outcome, cap, deadline)
        finished = True
    except EngineReaderBug:
        finished = True
        raise
    except _TimedOut:
        outcome.failure = f"duckdb engine timed out reading this file (time budget of {seconds:.3g} s)"
    except _Died:
        outcome.failure = child.death_reason(deadline)
    except _Garbage as exc:
        outcome.failure = f"duckdb engine answered with malformed output reading this file ({exc})"
    finally:
        if finished:
            _release(child)
        else:
            child.kill()
    return outcome


def _answer(child: _Child, batcher: ColumnBatcher, outcome: Outcome, cap: int, deadline: float) -> None:
    """Consume the child's answer up to its last frame (``D``, or ``B`` raised as ``EngineReaderBug``)."""
    limit = cap + FLUSH_AT + (64 << 10)  # one value can be as large as the cap, plus a frame's worth of others
    columns: list[str] = []
    while True:
        kind, payload = child.receive(limit, deadline)
        if kind == b"R":
            _feed(payload, columns, batcher)
        elif kind == b"T":
            columns = _table(payload)
        elif kind == b"E":
            where, reason = _table_error(payload)
            outcome.table_errors.append((where, reason))
        elif kind == b"X":
            outcome.refused = _line(payload)
        elif kind == b"C":
            outcome.capped = batcher.capped = True
        elif kind == b"D":
            return
        else:  # b"B": the child ended this answer by reporting its own failure
            raise EngineReaderBug(f"the isolated DuckDB reader failed: {_line(payload)}")


def _feed(payload: bytes, columns: list[str], batcher: ColumnBatcher) -> None:
    view = memoryview(payload)
    at, end = 0, len(view)
    while at < end:
        if at + _VALUE.size > end:
            raise _Garbage("a value header cut short")
        column, tag, size = _VALUE.unpack_from(view, at)
        at += _VALUE.size
        if at + size > end or column >= len(columns) or tag not in (RAW, TEXT):
            raise _Garbage("a value outside its frame or its table")
        data = bytes(view[at:at + size])
        at += size
        try:
            value: str | bytes = data.decode("utf-8", "surrogatepass") if tag == TEXT else data
        except UnicodeDecodeError:
            raise _Garbage("text that is not UTF-8") from None
        if not batcher.capped:
            batcher.add(columns[column], value)


def _json(payload: bytes) -> dict[str, object]:
    try:
        data = json.loads(payload)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise _Garbage("a frame that is not JSON") from None
    if not isinstance(data, dict):
        raise _Garbage("a frame that is not a JSON object")
    return data


def _table(payload: bytes) -> list[str]:
    data = _json(payload)
    where, columns = data.get("where"), data.get("columns")
    if not isinstance(where, str) or not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
        raise _Garbage("a malformed table header")
    return columns


def _table_error(payload: bytes) -> tuple[str, str]:
    data = _json(payload)
    where, reason = data.get("where"), data.get("reason")
    if not isinstance(where, str) or not isinstance(reason, str):
        raise _Garbage("a malformed table error")
    return where, _line(reason.encode("utf-8", "surrogatepass"))


def _line(payload: bytes) -> str:
    """A message from the child as a reason: one line, capped (the child sends that; this makes sure)."""
    text = payload.decode("utf-8", "backslashreplace").strip()
    lines = text.splitlines()
    return (lines[0] if lines else "no message")[:200]


class _TimedOut(Exception):
    pass


class _Died(Exception):
    pass


class _Garbage(Exception):
    pass


class _Child:
    """One child interpreter and its two pipes (requests in, frames out), in its own process group."""

    def __init__(self) -> None:
        import aico_secure

        root = str(Path(aico_secure.__file__).resolve().parents[1])
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-c", BOOT, root, str(MEMORY_BOUND_MB), str(os.getpid())],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=0,
            start_new_session=True, close_fds=True)
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self._in = self.proc.stdin.fileno()
        self._out = self.proc.stdout.fileno()
        self.owner = os.getpid()
        self.last_used = time.monotonic()

    def usable(self) -> bool:
        return (self.owner == os.getpid() and self.proc.poll() is None
                and time.monotonic() - self.last_used < STALE_AFTER)

    def send(self, kind: bytes, payload: bytes) -> None:
        try:
            _write_all(self._in, _HEADER.pack(kind, len(payload)) + payload)
        except OSError:  # EPIPE: the child is gone
            raise _Died from None

    def receive(self, limit: int, deadline: float) -> tuple[bytes, bytes]:
        kind, size = _HEADER.unpack(self._read(_HEADER.size, deadline))
        if kind not in _KINDS:
            raise _Garbage(f"unknown frame type {kind!r}")
        if size > limit:
            raise _Garbage(f"a frame of {size} bytes, over the bound of {limit}")
        return kind, self._read(size, deadline)

    def _read(self, size: int, deadline: float) -> bytes:
        buffer = bytearray()
        while len(buffer) < size:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._out], [], [], left)[0]:
                raise _TimedOut
            chunk = os.read(self._out, min(size - len(buffer), 1 << 20))
            if not chunk:
                raise _Died
            buffer += chunk
        return bytes(buffer)

    def death_reason(self, deadline: float) -> str:
        """Why the child stopped answering: the signal that killed it, or its exit status."""
        try:
            code = self.proc.wait(timeout=min(5.0, max(0.5, deadline - time.monotonic())))
        except subprocess.TimeoutExpired:
            return "duckdb engine closed its output without answering while reading this file"
        if code < 0:
            return f"duckdb engine crashed reading this file (signal {-code})"
        if code == EXIT_MEMORY:
            return f"duckdb engine ran out of its memory bound ({MEMORY_BOUND_MB} MiB) reading this file"
        return f"duckdb engine exited with status {code} reading this file"

    def kill(self) -> None:
        """End the child and anything it started (its process group), and reap it."""
        if self.owner == os.getpid():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=5)
        self._close_pipes()

    def close(self) -> None:
        """An idle child: closing its input makes it exit; the kill only makes sure and reaps it."""
        self._close_pipes()
        self.kill()

    def _close_pipes(self) -> None:
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()


_lock = threading.Lock()
_idle: list[_Child] = []


def _acquire() -> _Child:
    with _lock:
        while _idle:
            child = _idle.pop()
            if child.usable():
                return child
            child.close()
    return _Child()


def _release(child: _Child) -> None:
    if child.proc.poll() is not None or child.owner != os.getpid():
        child.kill()
        return
    child.last_used = time.monotonic()
    with _lock:
        if len(_idle) < MAX_IDLE and child not in _idle:
            _idle.append(child)
            return
    if child not in _idle:
        child.close()


def shutdown() -> None:
    """End every idle child (at exit; tests that change how children start call it too)."""
    with _lock:
        children, _idle[:] = list(_idle), []
    for child in children:
        child.close()


def _forget_after_fork() -> None:
    """A forked copy of this process must not talk to the parent's children over inherited pipes."""
    _idle.clear()


atexit.register(shutdown)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)


# ---- the child ------------------------------------------------------------------------------------------------


def child_main(argv: list[str]) -> None:
    """The child's loop: bound its memory, then answer requests until its input closes or it idles too long."""
    memory_mb, parent = int(argv[0]), int(argv[1])
    _bound_memory(memory_mb << 20)
    _die_with_parent(parent)
    # The protocol gets private descriptors; 0 and 1 become /dev/null, so nothing printed by the engine or by
    # Python (a warning, a stray print) can corrupt a frame.
    requests, frames = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.close(null)
    import duckdb  # noqa: F401 - loaded once when the child starts, not per request

    while True:
        if not select.select([requests], [], [], IDLE_EXIT)[0]:
            os._exit(0)
        header = _read_all(requests, _HEADER.size)
        if header is None:
            os._exit(0)
        kind, size = _HEADER.unpack(header)
        body = _read_all(requests, size) if kind == b"Q" and size <= MAX_REQUEST else None
        if body is None:
            os._exit(EXIT_PROTOCOL)
        try:
            request = json.loads(body)
            path, cap, what = str(request["path"]), int(request["cap"]), request["kind"]
        except (ValueError, KeyError, TypeError):
            os._exit(EXIT_PROTOCOL)
        _serve(what, path, _Sender(frames, cap))


def _bound_memory(limit: int) -> None:
    import resource

    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    bound = limit if hard == resource.RLIM_INFINITY else min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (bound, bound))


def _die_with_parent(parent: int) -> None:
    """A child hung inside the engine never reads the end of its input: have the kernel kill it with its parent
    (Linux), and exit now if the parent is already gone. The kernel sends the signal when the parent *thread*
    that started the child ends; an idle child found dead is replaced before use, so that costs a restart."""
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:
        os._exit(0)


def _read_all(fd: int, size: int) -> bytes | None:
    buffer = bytearray()
    while len(buffer) < size:
        chunk = os.read(fd, size - len(buffer))
        if not chunk:
            return None
        buffer += chunk
    return bytes(buffer)


class _Sender:
    """Frames to the parent; values are batched up to ``FLUSH_AT`` bytes and counted against the decode cap
    exactly as the parent's ``ColumnBatcher`` counts them, so both stop at the same value. Values are sent
    before every further engine call (``flush``): a crash in that call must not take values already read."""

    def __init__(self, fd: int, cap: int) -> None:
        self._fd = fd
        self._cap = cap
        self._total = 0
        self._parts: list[bytes] = []
        self._size = 0

    def add(self, column: int, value: object) -> bool:
        """Queue one value; False once the cap is reached (stop reading)."""
        data = value_bytes(value)
        if not data:
            return True
        if self._total + len(data) > self._cap:
            return False
        self._total += len(data)
        self._parts += (_VALUE.pack(column, TEXT if isinstance(value, str) else RAW, len(data)), data)
        self._size += _VALUE.size + len(data)
        if self._size >= FLUSH_AT:
            self.flush()
        return True

    def frame(self, kind: bytes, payload: bytes = b"") -> None:
        self.flush()
        self._write(kind, payload)

    def json(self, kind: bytes, **data: object) -> None:
        self.frame(kind, json.dumps(data).encode())

    def flush(self) -> None:
        if self._parts:
            payload = b"".join(self._parts)
            self._parts, self._size = [], 0
            self._write(b"R", payload)

    def _write(self, kind: bytes, payload: bytes) -> None:
        _write_all(self._fd, _HEADER.pack(kind, len(payload)))
        _write_all(self._fd, payload)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _serve(what: object, path: str, sender: _Sender) -> None:
    try:
        if what == "duckdb":
            _serve_database(path, sender)
        elif what == "parquet":
            _serve_parquet(path, sender)
        else:
            os._exit(EXIT_PROTOCOL)
        sender.frame(b"D")
    except MemoryError:
        os._exit(EXIT_MEMORY)
    except BrokenPipeError:  # the parent went away mid-answer
        os._exit(0)
    except Exception as exc:  # noqa: BLE001 - reported to the parent as the bug it is, with where it happened
        import traceback

        where = traceback.extract_tb(exc.__traceback__)[-1]
        sender.frame(b"B", f"{type(exc).__name__} at {Path(where.filename).name}:{where.lineno}".encode())


def _serve_database(path: str, sender: _Sender) -> None:
    import duckdb

    from aico_secure.inspector._detector import _duck

    try:
        con = _duck.connect(path)
    except duckdb.Error as exc:
        sender.frame(b"X", _duck.error_line(exc).encode())
        return
    try:
        try:
            tables = _duck.base_tables(con)
        except duckdb.Error as exc:
            sender.frame(b"X", _duck.error_line(exc).encode())
            return
        for catalog, schema, table in tables:
            where = f"duckdb:{schema}.{table}"
            sql = f"SELECT * FROM {_duck.quote(catalog)}.{_duck.quote(schema)}.{_duck.quote(table)}"  # noqa: S608
            try:
                if not _send_query(con, sql, [], f"{schema}.{table}.", where, sender):
                    return
            except duckdb.Error as exc:
                sender.json(b"E", where=where, reason=_duck.error_line(exc))
    finally:
        con.close()


def _serve_parquet(path: str, sender: _Sender) -> None:
    import duckdb

    from aico_secure.inspector._detector import _duck

    try:
        con = _duck.connect(allow=path)
    except duckdb.Error as exc:
        sender.frame(b"X", _duck.error_line(exc).encode())
        return
    try:
        _send_query(con, "SELECT * FROM read_parquet(?)", [path], "", "parquet", sender)
    except duckdb.Error as exc:
        sender.json(b"E", where="parquet", reason=_duck.error_line(exc))
    finally:
        con.close()


def _send_query(con: duckdb.DuckDBPyConnection, sql: str, params: list[object], prefix: str, where: str,
                sender: _Sender) -> bool:
    """Every value of the query's result to the parent; False once the cap stopped it (after sending ``C``)."""
    from aico_secure.inspector._detector import _duck

    cursor = con.execute(sql, params)
    sender.json(b"T", where=where, columns=[f"{prefix}{d[0]}" for d in cursor.description or ()])
    for rows in _duck.batches(cursor):
        for row in rows:
            for column, value in enumerate(row):
                if not sender.add(column, value):
                    sender.frame(b"C")
                    return False
        sender.flush()  # before the engine is called again: if that call crashes, what was read is not lost
    return True
