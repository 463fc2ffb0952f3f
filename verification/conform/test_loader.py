"""The loader's one rule: anything but a returned Target is "target cannot load" (a ``TargetLoadError``), in
process and in the child with a deadline; nothing a factory does can hang or kill the caller."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from aico_secure.target.loader import TargetLoadError, check_target, load_target

# Factories that fail in a way an in-process load can catch; each is also a load error in the child.
CATCHABLE = {
    "raises": "def build():\n    raise RuntimeError('boom')\n",
    "exits 0": "import sys\ndef build():\n    sys.exit(0)\n",
    "exits 3": "import sys\ndef build():\n    sys.exit(3)\n",
    "keyboard interrupt": "def build():\n    raise KeyboardInterrupt\n",
    "base exception": "def build():\n    raise BaseException('odd')\n",
    "returns None": "def build():\n    return None\n",
    "returns a dict": "def build():\n    return {'name': 'x'}\n",
    "import raises": "raise ValueError('broken module')\ndef build():\n    pass\n",
    "import exits": "import sys\nsys.exit(0)\ndef build():\n    pass\n",
    "module getattr raises": "def __getattr__(name):\n    raise SystemExit(0)\n",
}
# Factories only the child can survive: the caller's process would die or hang.
UNCATCHABLE = {
    "os._exit(0)": "import os\ndef build():\n    os._exit(0)\n",
    "abort": "import os\ndef build():\n    os.abort()\n",
    "blocks": "import threading\ndef build():\n    threading.Event().wait()\n",
}


def one_line(exc: BaseException) -> str:
    text = str(exc)
    assert text and "\n" not in text, repr(text)
    return text


@pytest.mark.parametrize("kind", sorted(CATCHABLE))
def test_every_failure_in_process_is_a_load_error(kind: str, target_module: Callable[[str], str]) -> None:
    spec = f"{target_module(CATCHABLE[kind])}:build"
    with pytest.raises(TargetLoadError) as caught:
        load_target(spec)
    one_line(caught.value)


@pytest.mark.parametrize("kind", sorted(CATCHABLE) + sorted(UNCATCHABLE))
def test_every_failure_in_the_child_is_a_load_error(kind: str, target_module: Callable[[str], str]) -> None:
    source = CATCHABLE.get(kind) or UNCATCHABLE[kind]
    spec = f"{target_module(source)}:build"
    started = time.monotonic()
    with pytest.raises(TargetLoadError) as caught:
        check_target(spec, timeout=2)
    assert time.monotonic() - started < 15
    one_line(caught.value)


def test_sys_exit_as_the_factory_is_a_load_error() -> None:
    with pytest.raises(TargetLoadError, match="target cannot load"):
        load_target("sys:exit")
    with pytest.raises(TargetLoadError, match="target cannot load"):
        check_target("sys:exit", timeout=10)


def test_a_blocking_factory_is_stopped_at_the_deadline(target_module: Callable[[str], str]) -> None:
    spec = f"{target_module(UNCATCHABLE['blocks'])}:build"
    with pytest.raises(TargetLoadError, match=r"did not return within 1 s"):
        check_target(spec, timeout=1)


def test_a_good_target_is_described_without_loading_it_here(target_module: Callable[[str], str]) -> None:
    # A factory that leaves a non-daemon thread running still loads: the child answers, then is stopped.
    spec = target_module("""
        import threading
        from aico_secure.target import Target
        def build():
            threading.Thread(target=threading.Event().wait, daemon=False).start()
            return Target(name="lingering", version="1")
    """) + ":build"
    identity = check_target(spec, timeout=20)
    assert (identity.name, identity.version) == ("lingering", "1")
    assert identity.capabilities["keys"] is False


@pytest.mark.parametrize("timeout", [0, -1, float("nan")])
def test_the_load_timeout_must_be_positive(timeout: float) -> None:
    with pytest.raises(TargetLoadError):
        check_target("aico_secure.reference:build", timeout=timeout)


def test_an_in_process_load_has_a_deadline_too(target_module: Callable[[str], str]) -> None:
    spec = target_module("""
        import time
        def build():
            while True:
                try:
                    time.sleep(10)
                except Exception:
                    pass  # a factory swallowing exceptions cannot swallow the deadline
    """) + ":build"
    started = time.monotonic()
    with pytest.raises(TargetLoadError, match=r"did not return within 0.5 s"):
        load_target(spec, timeout=0.5)
    assert time.monotonic() - started < 5
