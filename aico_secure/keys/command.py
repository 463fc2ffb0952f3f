"""``aico-secure keyring``: create, inspect, check, rotate and re-password a keyring from the command line.

Passwords come from ``--password-file`` / ``$AICO_SECURE_PASSWORD`` / a prompt (new ones from
``--new-password-file`` / ``$AICO_SECURE_NEW_PASSWORD``), never from argv. Exit codes: 0 done, 1 the password
was refused (nothing opened or changed), 2 usage error or an unreadable, corrupt or unsupported keyring, an
operating-system error (permissions, full disk, not a regular file) or a keyring locked by another command for
longer than the lock timeout (nothing overwritten).

Commands that change the keyring hold its update lock from before they read it until after they wrote it, so
two commands run at once are applied one after the other: neither's work is lost, and the second one sees the
first one's result (after a password change, the old password is refused with exit 1). Passwords are read
before the lock is taken, so a prompt never holds it.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from pathlib import Path

from aico_secure.cli.passwords import NEW_PASSWORD_ENV, PasswordSourceError, read_password
from aico_secure.errors import KeyringError, WrongPasswordError
from aico_secure.keys import Keyring
from aico_secure.keys.display import shown
from aico_secure.keys.labels import check_purpose
from aico_secure.keys.lock import keyring_lock


class KeyringCommandError(Exception):
    """Printed as one line; ``code`` is the exit status."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


def configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="keyring_command", metavar="ACTION")

    def action(name: str, help_text: str, *, password: bool = True) -> argparse.ArgumentParser:
        sub = actions.add_parser(name, help=help_text, allow_abbrev=False)
        sub.add_argument("directory", metavar="DIR", help="the keyring directory (holding keyring.json)")
        if password:
            sub.add_argument("--password-file", metavar="FILE", help="read the password from FILE")
        return sub

    create = action("create", "create a new keyring (refuses to overwrite)")
    create.add_argument("--profile", choices=("production", "test"), default="production")
    action("info", "show the keyring's KDF profile and parameters (no password needed)", password=False)
    action("check", "unlock the keyring and report its data keys")
    change = action("change-password", "re-wrap every data key under a new password")
    change.add_argument("--new-password-file", metavar="FILE", help=f"the new password (else ${NEW_PASSWORD_ENV})")
    rotate = action("rotate", "rotate the master key, a key-encryption key or a data key")
    what = rotate.add_mutually_exclusive_group(required=True)
    what.add_argument("--master", action="store_true", help="new master key (new salt) for the same password")
    what.add_argument("--kek", metavar="PURPOSE", help="new key-encryption key version for PURPOSE")
    what.add_argument("--dek", metavar="PURPOSE", help="new active data key for PURPOSE (old ones kept for reading)")


def _password(args: argparse.Namespace) -> str:
    try:
        return read_password(args.password_file)
    except PasswordSourceError as exc:
        raise KeyringCommandError(str(exc)) from None


def _new_password(args: argparse.Namespace) -> str:
    try:
        return read_password(args.new_password_file, env=NEW_PASSWORD_ENV, prompt="new password: ")
    except PasswordSourceError as exc:
        raise KeyringCommandError(str(exc)) from None


@contextlib.contextmanager
def _errors_as_exit_codes() -> Iterator[None]:
    """Every failure becomes one line: 1 for a refused password, 2 for everything else."""
    try:
        yield
    except WrongPasswordError as exc:
        raise KeyringCommandError(str(exc), code=1) from None
    except (KeyringError, ValueError) as exc:
        raise KeyringCommandError(str(exc)) from None
    except RecursionError:
        raise KeyringCommandError("input nested too deeply") from None
    except OSError as exc:  # anything the keyring layer did not already name (it normally does)
        where = f" ({shown(exc.filename)})" if isinstance(exc.filename, str) else ""
        raise KeyringCommandError(f"operating-system error{where}: {exc.strerror or type(exc).__name__}") from None


def run(args: argparse.Namespace) -> int:
    if not getattr(args, "keyring_command", None):
        raise KeyringCommandError("choose an action: create, info, check, change-password, rotate")
    path = Keyring.path_in(Path(args.directory))
    where = shown(path)
    with _errors_as_exit_codes():
        if args.keyring_command == "create":
            keyring = Keyring.create(path, _password(args), profile=args.profile)
            print(f"created {where} ({'TEST profile: not for real data' if keyring.test_only else 'production'})")
        elif args.keyring_command == "info":
            info = Keyring.describe(path)
            print(f"{where}: {info.algorithm} profile={info.profile} t={info.time_cost} m={info.memory_kib}KiB "
                  f"p={info.parallelism} salt={info.salt_bytes}B{' TEST-ONLY' if info.test_only else ''} "
                  "(read without the password: run 'check' to authenticate)")
        elif args.keyring_command == "check":
            keyring = Keyring.unlock(path, _password(args))
            for purpose in keyring.purposes():
                print(f"{purpose}: {len(keyring.key_ids(purpose))} data key(s), active {keyring.key_ids(purpose)[-1]}")
            print(f"{where}: unlocked and intact")
        elif args.keyring_command == "change-password":
            current, new = _password(args), _new_password(args)
            with keyring_lock(path):
                Keyring.unlock(path, current).change_password(current, new)
            print(f"{where}: password changed; data keys re-wrapped, no data re-encrypted")
        else:
            password = _password(args)
            chosen = None if args.master else check_purpose(args.kek or args.dek)
            with keyring_lock(path):
                keyring = Keyring.unlock(path, password)
                if args.master:
                    keyring.rotate_master(password)
                elif args.kek:
                    keyring.rotate_kek(chosen or "")
                else:
                    keyring.rotate_dek(chosen or "")
            if args.master:
                print(f"{where}: master key rotated")
            elif args.kek:
                print(f"{where}: key-encryption key for {chosen} rotated")
            else:
                print(f"{where}: new active data key for {chosen}")
    return 0
