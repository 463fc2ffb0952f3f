"""The processes the key-lifecycle crash scans (``test_km_crash_leaks.py``) kill with SIGKILL mid-operation.

Run as ``python crash_child.py TARGET_SPEC OPERATION PURPOSE...``: a supervisor that imports the build once and
then, for each line ``{"directory": ..., "password": ...}`` on stdin, forks a worker. The worker loads a fresh
instance of the build through the target contract only, unlocks that keyring and runs ``OPERATION``
(rotate-data-key, rotate-kek, rotate-master, change-password) over and over until the suite kills it; the
supervisor then reports ``{"reaped": pid}``. Forking keeps a kill cheap (no interpreter start-up per kill), so
the suite can afford many; the worker that dies is a whole process running the build, as in a real crash.

Everything secret a worker uses travels to the suite on stdout, a pipe, never in a file: a file would be the
very leak the scan looks for. One JSON line per event, flushed: ``{"keys": {...}}`` (the session's key
material and derived purpose keys, hex) after unlock and after each operation, ``{"begin": n, "op": ...,
"password": ...}`` before each operation (the new password of a password change, announced before the change
starts) and ``{"done": n}`` once it returned.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from pathlib import Path
from typing import Any, NoReturn


def say(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def new_password() -> str:
    from aico_secure.conform.passphrases import passphrase

    return passphrase()


def key_material(session: Any, purposes: list[str]) -> dict[str, str]:
    from aico_secure.target import ContractError

    found = {name: bytes(value).hex() for name, value in session.secret_material().items()}
    for purpose in purposes:
        try:
            found[f"derived:{purpose}"] = bytes(session.derive(purpose)).hex()
        except ContractError:
            pass
    return found


def work(spec: str, operation: str, purposes: list[str], directory: Path, password: str) -> NoReturn:
    """The worker: loop ``operation`` on the keyring in ``directory`` until killed."""
    from aico_secure.target import load_target

    target = load_target(spec)
    assert target.keys is not None
    session = target.keys.unlock(directory, password)
    say({"keys": key_material(session, purposes)})
    say({"ready": True, "pid": os.getpid()})
    number = 0
    while True:
        number += 1
        if operation == "change-password":
            new = new_password()
            say({"begin": number, "op": operation, "password": new})
            session.change_password(password, new)
            password = new
        else:
            say({"begin": number, "op": operation})
            for purpose in purposes:
                if operation == "rotate-data-key":
                    session.rotate_data_key(purpose)
                elif operation == "rotate-kek":
                    session.rotate_kek(purpose)
            if operation == "rotate-master":
                session.rotate_master(password)
        say({"done": number})
        say({"keys": key_material(session, purposes)})


def main(argv: list[str]) -> int:
    from aico_secure.target import load_target

    spec, operation = argv[:2]
    purposes = argv[2:]
    load_target(spec)  # import the build once, before any fork
    for line in sys.stdin:
        request = json.loads(line)
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            try:
                work(spec, operation, purposes, Path(request["directory"]), request["password"])
            except NotImplementedError as exc:  # the build lacks this operation: nothing to crash in
                say({"not_offered": str(exc) or operation})
            except BaseException:  # noqa: BLE001 - a worker never returns into the supervisor's loop
                say({"failed": traceback.format_exc()[-1500:]})
            finally:
                os._exit(1)
        _, status = os.waitpid(pid, 0)
        say({"reaped": pid, "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
