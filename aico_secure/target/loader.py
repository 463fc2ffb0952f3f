"""Load a build from ``package.module:factory``, with one rule: anything but a returned ``Target`` is a load error.

A factory is outside code. It may raise any exception, call ``sys.exit``, raise ``KeyboardInterrupt``, return the
wrong thing, kill its process or never return. ``load_target`` turns every one of those that can be caught in
process into ``TargetLoadError``; ``check_target`` first loads the target in a child process with a deadline, so
a factory that blocks or kills its process cannot hang or kill the caller, and reports what it found (name,
version, capabilities) without the caller ever running the factory.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import re
import selectors
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from aico_secure.target.contract import Target

_SPEC = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
DEFAULT_LOAD_TIMEOUT = 60.0
# After the child has sent its answer it gets this long to exit by itself (threads, atexit) before it is killed.
_EXIT_GRACE = 5.0
# The child's answer is a few hundred bytes; anything much larger is not an answer.
_MAX_ANSWER = 1 << 20
_CANNOT = "target cannot load"
_CHILD = "from aico_secure.target.loader import _child_main; _child_main()"
_REFERENCE = "aico_secure.reference"


class TargetLoadError(Exception):
    """The target spec is malformed, or its factory failed, exited, blocked or returned something not a Target."""


class _LoadDeadline(BaseException):
    """Raised by the load alarm; a BaseException so a factory's ``except Exception`` cannot swallow it."""


@dataclass(frozen=True)
class TargetIdentity:
    """What a loaded target says about itself: enough for a report, without holding the target."""

    name: str
    version: str
    capabilities: dict[str, bool]


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    detail = f": {text[0][:300]}" if text else ""
    return f"{type(exc).__name__}{detail}"


@contextlib.contextmanager
def _deadline(seconds: float | None, spec: str) -> Iterator[None]:
    """Interrupt the import and factory after ``seconds`` (SIGALRM: only in the main thread, and only when no
    other alarm, such as a per-test timeout, is already armed; otherwise that one bounds the load)."""
    usable = (seconds is not None and hasattr(signal, "SIGALRM")
              and threading.current_thread() is threading.main_thread()
              and signal.getitimer(signal.ITIMER_REAL)[0] == 0)
    if not usable or seconds is None:
        yield
        return

    def expired(_signum: int, _frame: object) -> None:
        raise _LoadDeadline(f"{_CANNOT}: {spec} did not return within {seconds:g} s (--load-timeout)")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _import_failure(module_name: str, exc: ImportError) -> str:
    """The reference build's engines and services are the ``reference`` extra, not the core install: say so
    rather than leave "No module named 'starlette'" to be decoded."""
    reference = module_name == _REFERENCE or module_name.startswith(f"{_REFERENCE}.")
    if reference and isinstance(exc, ModuleNotFoundError):
        return f"{_CANNOT}: the reference build needs pip install 'aico-secure[reference]' ({exc})"
    return f"{_CANNOT}: cannot import {module_name!r}: {exc}"


def load_target(spec: str, *, timeout: float | None = None) -> Target:
    """Import and call the factory in this process. Every way it can fail here becomes ``TargetLoadError``;
    with ``timeout``, so does a factory still running after that many seconds (where an alarm can be used)."""
    try:
        with _deadline(timeout, spec):
            return _load(spec)
    except _LoadDeadline as exc:
        raise TargetLoadError(str(exc)) from None


def _load(spec: str) -> Target:
    if not isinstance(spec, str) or not _SPEC.match(spec):
        raise TargetLoadError(f"target must look like package.module:factory, got {spec!r}")
    module_name, attr = spec.split(":")
    try:
        module = importlib.import_module(module_name)
    except _LoadDeadline:
        raise
    except ImportError as exc:
        raise TargetLoadError(_import_failure(module_name, exc)) from None
    except BaseException as exc:  # noqa: BLE001 - outside code: SystemExit, KeyboardInterrupt and all
        raise TargetLoadError(f"{_CANNOT}: cannot import {module_name!r}: it raised {_one_line(exc)}") from None
    try:
        factory = getattr(module, attr, None)
    except _LoadDeadline:
        raise
    except BaseException as exc:  # noqa: BLE001 - a module __getattr__ is outside code too
        raise TargetLoadError(f"{_CANNOT}: cannot read {attr!r} from {module_name!r}: {_one_line(exc)}") from None
    if not callable(factory):
        raise TargetLoadError(f"{_CANNOT}: {module_name!r} has no callable {attr!r}")
    try:
        target = factory()
    except _LoadDeadline:
        raise
    except BaseException as exc:  # noqa: BLE001 - outside code: SystemExit, KeyboardInterrupt and all
        raise TargetLoadError(f"{_CANNOT}: {spec} raised {_one_line(exc)}") from None
    if not isinstance(target, Target):
        raise TargetLoadError(f"{_CANNOT}: {spec} returned {type(target).__name__}, not aico_secure.target.Target")
    return target


def identify(target: Target) -> TargetIdentity:
    return TargetIdentity(str(target.name), str(target.version), dict(target.capabilities()))


def _child_env() -> dict[str, str]:
    """The child imports exactly what this process could import (pytest adds rootdirs and ``pythonpath``)."""
    env = dict(os.environ)
    paths = [p for p in sys.path if isinstance(p, str) and p]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    return env


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


def _read_answer(proc: subprocess.Popen[bytes], deadline: float) -> bytes | None:
    """Everything the child writes on its answer pipe until it closes it, or None at the deadline."""
    assert proc.stdout is not None
    data = bytearray()
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            if not selector.select(remaining):
                continue
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                return bytes(data)
            data += chunk
            if len(data) > _MAX_ANSWER:
                return bytes(data[:_MAX_ANSWER])


def check_target(spec: str, timeout: float = DEFAULT_LOAD_TIMEOUT) -> TargetIdentity:
    """Load ``spec`` in a child process that must answer within ``timeout`` seconds.

    Raises ``TargetLoadError`` (one line) for a bad spec, any exception or exit from import or factory, a
    non-Target return, a child that dies (``os._exit``, a signal) and a factory still running at the deadline;
    the child and anything it started in its process group are killed.
    """
    if not isinstance(spec, str) or not _SPEC.match(spec):
        raise TargetLoadError(f"target must look like package.module:factory, got {spec!r}")
    if not timeout > 0:
        raise TargetLoadError(f"the load timeout must be > 0 seconds, got {timeout!r}")
    proc = subprocess.Popen([sys.executable, "-c", _CHILD, spec], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=_child_env(),
                            start_new_session=True)
    try:
        answer = _read_answer(proc, time.monotonic() + timeout)
        if answer is None:
            raise TargetLoadError(f"{_CANNOT}: {spec} did not return within {timeout:g} s "
                                  "(--load-timeout)")
        try:
            proc.wait(timeout=_EXIT_GRACE)
        except subprocess.TimeoutExpired:
            pass
    finally:
        if proc.stdout is not None:
            proc.stdout.close()
        _kill_group(proc)
    return _parse_answer(spec, answer, proc.returncode)


def _parse_answer(spec: str, answer: bytes, returncode: int) -> TargetIdentity:
    try:
        data: Any = json.loads(answer.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        data = None
    if not isinstance(data, dict):
        how = f"killed by signal {-returncode}" if returncode < 0 else f"exited with code {returncode}"
        raise TargetLoadError(f"{_CANNOT}: the process loading {spec} {how} before the factory returned")
    if "error" in data:
        raise TargetLoadError(str(data["error"]))
    caps = data.get("capabilities")
    if not isinstance(caps, dict):
        raise TargetLoadError(f"{_CANNOT}: {spec} gave no capabilities")
    return TargetIdentity(str(data.get("name")), str(data.get("version")), {str(k): bool(v) for k, v in caps.items()})


def _child_main() -> None:
    """Runs in the child: answer on the original stdout, which the factory cannot write to or pass on."""
    answer_fd = os.dup(1)  # not inheritable (PEP 446): processes the factory starts do not hold the pipe open
    os.dup2(2, 1)
    try:
        identity = identify(load_target(sys.argv[1]))
        payload: dict[str, Any] = {"name": identity.name, "version": identity.version,
                                   "capabilities": identity.capabilities}
    except TargetLoadError as exc:
        payload = {"error": str(exc)}
    except BaseException as exc:  # noqa: BLE001 - e.g. a name or capabilities() that raises
        payload = {"error": f"{_CANNOT}: {sys.argv[1]} raised {_one_line(exc)} while describing itself"}
    with os.fdopen(answer_fd, "w", encoding="utf-8") as out:
        out.write(json.dumps(payload))


__all__ = ["DEFAULT_LOAD_TIMEOUT", "TargetIdentity", "TargetLoadError", "check_target", "identify", "load_target"]
