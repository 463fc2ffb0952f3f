"""``aico-secure audit verify PATH``: check an audit log on disk and say where it was tampered with.

The password never appears on the command line (it would sit in shell history and in ``ps`` output for every
user of the machine): it comes from ``--password-file``, else from the ``AICO_SECURE_PASSWORD`` environment
variable, else from a prompt when stdin is a terminal.

Exit codes: 0 the log is intact; 1 the log was tampered with or rolled back to an older copy (every problem
printed with its position); 2 usage error, or the log or keyring cannot be read (a verification that read
nothing is not a pass). The log is streamed with a per-line cap, so a huge or hostile file is located, not
fatal.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from aico_secure.audit.anchor import KeyringAnchor
from aico_secure.audit.codec import SealedCodec
from aico_secure.audit.layout import log_path
from aico_secure.audit.logkeys import KeyringLogKeys
from aico_secure.audit.verify import Verification, verify_log
from aico_secure.cli.passwords import PASSWORD_ENV, PasswordSourceError, read_password
from aico_secure.errors import AicoSecureError, WrongPasswordError
from aico_secure.keys import Keyring


class AuditCommandError(Exception):
    """A usage or input problem: one line, exit 2."""


def configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="audit_command", metavar="ACTION")
    verify = actions.add_parser("verify", help="verify an audit log and locate any tampering",
                                description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                                allow_abbrev=False)  # "--password X" must not be taken for --password-file
    verify.add_argument("path", metavar="PATH", help="the audit log directory (holding audit.log)")
    verify.add_argument("--keyring", required=True, metavar="DIR", help="the keyring directory (keyring.json)")
    verify.add_argument("--password-file", metavar="FILE",
                        help=f"read the keyring password from FILE (else ${PASSWORD_ENV}, else a prompt)")
    verify.add_argument("--format", choices=("text", "json"), default="text")


def _password(args: argparse.Namespace) -> str:
    try:
        return read_password(args.password_file)
    except PasswordSourceError as exc:
        raise AuditCommandError(str(exc)) from None


def shown(path: Path | str) -> str:
    """A path as printable text: bytes that are not UTF-8 (a non-UTF-8 file name) escaped, never a crash."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def _render_text(path: Path, found: Verification) -> str:
    if found.ok:
        lines = [f"audit log {shown(path)}: intact, {found.authentic} entries verified"]
    else:
        what = "ROLLED BACK" if found.rolled_back else "TAMPERED"
        lines = [f"audit log {shown(path)}: {what}, {len(found.problems) + found.omitted} problem(s)"]
        lines += [f"  {line}" for line in found.describe()]
    lines += [f"  warning: {w}" for w in found.warnings]
    return "\n".join(lines)


def _render_json(path: Path, found: Verification) -> str:
    return json.dumps({
        "path": shown(path), "ok": found.ok, "rolled_back": found.rolled_back, "entries": found.authentic,
        "entry_lines": found.lines, "checkpoint_count": found.checkpoint_count, "anchor_count": found.anchor_count,
        "problems_not_listed": found.omitted,
        "problems": [{"kind": p.kind, "position": p.position, "offset": p.offset, "detail": p.detail}
                     for p in found.problems],
        "warnings": found.warnings,
    }, indent=2)


def verify_command(args: argparse.Namespace) -> int:
    path = Path(args.path)
    if not log_path(path).is_file():  # is_file never blocks, even on a FIFO, and never raises
        raise AuditCommandError(f"no audit log at {shown(path)} (expected {log_path(path).name} as a regular "
                                "file in that directory)")
    password = _password(args)
    try:
        keyring = Keyring.unlock(Keyring.path_in(Path(args.keyring)), password)
    except WrongPasswordError:
        raise AuditCommandError(f"the password does not unlock the keyring in {shown(args.keyring)}") from None
    except (AicoSecureError, OSError, ValueError, RecursionError) as exc:
        detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise AuditCommandError(f"the keyring in {shown(args.keyring)} cannot be used: {shown(detail)}") from None
    keys = KeyringLogKeys(keyring)
    found = verify_log(path, keys, SealedCodec(keys), anchor=KeyringAnchor(keyring), keep_events=False)
    if found.unreadable is not None:
        raise AuditCommandError(f"audit log {shown(path)}: {shown(found.unreadable)}")
    if not found.header_ok and found.checkpoint_count is None and not found.authentic:
        raise AuditCommandError(f"nothing in {shown(log_path(path))} authenticates with this keyring: the wrong "
                                "keyring, or a log destroyed beyond recognition")
    print(_render_json(path, found) if args.format == "json" else _render_text(path, found))
    return 0 if found.ok else 1


def run(args: argparse.Namespace) -> int:
    if args.audit_command == "verify":
        return verify_command(args)
    raise AuditCommandError("choose an action: aico-secure audit verify PATH --keyring DIR")
