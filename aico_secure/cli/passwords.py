"""How every CLI command gets a password: from a file, an environment variable, or a prompt. Never from the
command line, where it would land in shell history and in every process listing."""

from __future__ import annotations

import getpass
import os
import sys

from aico_secure.keys.display import shown

PASSWORD_ENV = "AICO_SECURE_PASSWORD"  # noqa: S105 - the name of a variable, not a password
NEW_PASSWORD_ENV = "AICO_SECURE_NEW_PASSWORD"  # noqa: S105 - the name of a variable, not a password
MAX_PASSWORD_FILE_BYTES = 4096


class PasswordSourceError(Exception):
    """No usable password source; the message says which ones were tried (never the password)."""


def read_password(password_file: str | None, *, env: str = PASSWORD_ENV, prompt: str = "keyring password: ") -> str:
    if password_file:
        try:
            with open(password_file, "rb") as fh:
                raw = fh.read(MAX_PASSWORD_FILE_BYTES + 1)
        except OSError as exc:
            raise PasswordSourceError(f"cannot read the password file {shown(password_file)}: "
                                      f"{exc.strerror or type(exc).__name__}") from None
        if len(raw) > MAX_PASSWORD_FILE_BYTES:
            raise PasswordSourceError(f"the password file {shown(password_file)} is too large to hold a password")
        try:
            password = raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError:
            raise PasswordSourceError(f"the password file {shown(password_file)} is not UTF-8 text") from None
    elif os.environ.get(env):
        password = os.environ[env]
        try:
            password.encode("utf-8")
        except UnicodeEncodeError:  # bytes that are not UTF-8; the codec's message would quote them
            raise PasswordSourceError(f"${env} is not UTF-8 text") from None
    elif sys.stdin.isatty():
        password = getpass.getpass(prompt)
    else:
        raise PasswordSourceError(f"no password: use a password file or set {env} "
                                  "(passwords are never taken on the command line)")
    if not password:
        raise PasswordSourceError("the password is empty")
    return password
