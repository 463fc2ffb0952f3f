"""The writer process the crash-safety test (AICO-DAR-007) kills with SIGKILL.

Run as ``python crash_writer.py TARGET_SPEC KEYS_DIR STORES_DIR CYCLE SEED STORE...`` with the current password
on the first line of stdin. It loads the build through the target contract only, opens the named stores,
writes two records to each (then prints ``{"prologue": true}``) and then works forever (puts, deletes,
compaction, per-store data-key rotation, master-key rotation, password changes). It prints one JSON line
before each operation (``begin``) and one after it returned (``done``), flushed, so the parent knows exactly
what was committed when the kill landed. Values are derived from keys, so the parent can check them without
being told.
"""

from __future__ import annotations

import hashlib
import json
import random
import sys
from pathlib import Path
from typing import Any

DIMENSION = 16


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


def main(argv: list[str]) -> int:
    from aico_secure.target import RecordStore, load_target

    spec, keys_dir, stores_dir, cycle, seed = argv[:5]
    names = argv[5:]
    password = sys.stdin.readline().rstrip("\n")
    target = load_target(spec)
    assert target.keys is not None
    session = target.keys.unlock(Path(keys_dir), password)
    stores = {name: target.stores[name].open(session, Path(stores_dir) / name) for name in names}
    rng = random.Random(int(seed))
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
        op: dict[str, Any] = {"begin": number, "store": name}
        if roll < 0.70 or not written[name]:
            key = f"c{cycle}-{number}"
            say({**op, "op": "put", "key": key})
            if isinstance(store, RecordStore):
                store.put(key, value_for(key))
            else:
                document, metadata = document_for(key)
                store.add(key, embedding_for(key), document, metadata)
            written[name].append(key)
        elif roll < 0.80:
            key = written[name].pop(rng.randrange(len(written[name])))
            say({**op, "op": "delete", "key": key})
            store.delete(key)
        elif roll < 0.88:
            say({**op, "op": "rotate_data_key"})
            store.rotate_data_key()
        elif roll < 0.93:
            say({**op, "op": "compact"})
            store.compact()
        elif roll < 0.97:
            say({**op, "op": "rotate_master"})
            session.rotate_master(password)
        else:
            new_password = f"{password[:40]}~{number}"
            say({**op, "op": "change_password"})
            session.change_password(password, new_password)
            password = new_password
        say({"done": number})


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
