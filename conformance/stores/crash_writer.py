"""The writer the crash-safety test (AICO-DAR-007) kills with SIGKILL, and the fork server that starts it.

Run as ``python crash_writer.py TARGET_SPEC``: it imports the build once (``load_target``), then, for each JSON
request on stdin (``keys_dir``, ``stores_dir``, ``cycle``, ``seed``, ``names``, ``password``, ``lacking``: the
optional operations the build is known to lack), forks a writer, prints ``{"pid": ...}``, and when the writer
is dead prints ``{"reaped": ..., "signal": ...}``. Forking from a loaded build makes a kill cycle cost
milliseconds rather than an interpreter start, so the quick profile can afford one crash test per store.

The writer loads the build through the target contract only, opens the named stores (the test names one),
writes two records to each (then prints ``{"prologue": true}``) and then works forever (puts, deletes,
compaction, per-store data-key rotation, master-key rotation, password changes; only puts and deletes when the
request says ``writes_only``). It prints one JSON line
before each operation (``begin``) and one after it returned (``done``), or ``lacks`` if the build turned out
not to have that optional operation (it is not tried again), flushed, so the parent knows exactly what was
committed when the kill landed. Values are derived from keys, so the parent can check them without being told.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import sys
import traceback
from pathlib import Path
from typing import Any

DIMENSION = 16
# Operations a build may lack (NotImplementedError, CapabilityMissing, or no such method): the writer then
# leaves them out and carries on with writes, so a store is still crash-tested on what it has.
OPTIONAL_OPS = ("rotate_data_key", "compact", "rotate_master", "change_password")
SESSION_OPS = ("rotate_master", "change_password")


def value_for(key: str) -> bytes:
    return hashlib.sha256(key.encode()).hexdigest().encode() * 3


def embedding_for(key: str) -> list[float]:
    digest = hashlib.sha256(key.encode()).digest()
    return [(b - 127.5) / 64.0 for b in digest[:DIMENSION]]


def document_for(key: str) -> tuple[str, dict[str, str]]:
    return f"doc-{key}", {"key": key}


def say(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def _lacks(owner: Any, name: str) -> bool:
    return not callable(getattr(owner, name, None))


def work(spec: str, request: dict[str, Any]) -> None:
    """One writer, until it is killed."""
    from aico_secure.target import CapabilityMissing, RecordStore, load_target

    names: list[str] = request["names"]
    cycle, password = request["cycle"], request["password"]
    lacking: set[str] = set(request["lacking"])
    writes_only = bool(request.get("writes_only"))
    target = load_target(spec)
    assert target.keys is not None
    session = target.keys.unlock(Path(request["keys_dir"]), password)
    stores = {name: target.stores[name].open(session, Path(request["stores_dir"]) / name) for name in names}
    rng = random.Random(int(request["seed"]))
    written: dict[str, list[str]] = {name: [] for name in names}
    say({"ready": True})
    number = 0
    prologue = [name for name in names for _ in range(2)]  # every store gets writes before anything else
    while True:
        number += 1
        if number == len(prologue) + 1:
            say({"prologue": True})
        name = prologue[number - 1] if number <= len(prologue) else rng.choice(names)
        store = stores[name]
        roll = rng.random() if number > len(prologue) else 0.0
        if writes_only:  # nothing that could flush the writes acknowledged so far before the kill lands
            roll *= 0.80
        kind = ("put" if roll < 0.70 or not written[name] else "delete" if roll < 0.80
                else "rotate_data_key" if roll < 0.88 else "compact" if roll < 0.93
                else "rotate_master" if roll < 0.97 else "change_password")
        owner = session if kind in SESSION_OPS else store
        if kind in OPTIONAL_OPS and (kind in lacking or _lacks(owner, kind)):
            lacking.add(kind)
            kind = "put"
        op: dict[str, Any] = {"begin": number, "store": name}
        try:
            if kind == "put":
                key = f"c{cycle}-{number}"
                say({**op, "op": "put", "key": key})
                if isinstance(store, RecordStore):
                    store.put(key, value_for(key))
                else:
                    document, metadata = document_for(key)
                    store.add(key, embedding_for(key), document, metadata)
                written[name].append(key)
            elif kind == "delete":
                key = written[name].pop(rng.randrange(len(written[name])))
                say({**op, "op": "delete", "key": key})
                store.delete(key)
            elif kind == "rotate_data_key":
                say({**op, "op": kind})
                store.rotate_data_key()
            elif kind == "compact":
                say({**op, "op": kind})
                store.compact()
            elif kind == "rotate_master":
                say({**op, "op": kind})
                session.rotate_master(password)
            else:
                new_password = f"{password[:40]}~{number}"
                say({**op, "op": kind})
                session.change_password(password, new_password)
                password = new_password
        except (NotImplementedError, CapabilityMissing):
            if kind not in OPTIONAL_OPS:
                raise  # writes are what the test is about: a build without them fails it
            lacking.add(kind)
            say({"lacks": kind, "begin": number})  # the op did nothing: the parent drops it as not in flight
            continue
        say({"done": number})


def main(argv: list[str]) -> int:
    from aico_secure.target import load_target

    spec = argv[0]
    load_target(spec)  # import the build once, before any fork
    for line in sys.stdin:
        request = json.loads(line)
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            try:
                work(spec, request)
            except BaseException:  # noqa: BLE001 - a writer never returns into the server's loop
                say({"failed": traceback.format_exc()[-2000:]})
            finally:
                os._exit(1)
        say({"pid": pid})
        _, status = os.waitpid(pid, 0)
        say({"reaped": pid, "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
