"""Typed keyring errors added for concurrent use and rollback anchors.

They subclass ``aico_secure.errors.KeyringError`` so every caller that already handles keyring failures (the CLI
maps them to exit 2) handles these too, while a caller that can act on one case catches exactly that class.
"""

from __future__ import annotations

from aico_secure.errors import KeyringError


class KeyringIOError(KeyringError):
    """The operating system refused a read or write (permissions, read-only or full disk, not a regular file).

    Raised before anything is replaced: the keyring on disk is the one that was there before the call.
    """


class KeyringBusyError(KeyringError):
    """Another process held the keyring's update lock for longer than the lock timeout; nothing was changed."""


class KeyringChangedError(KeyringError):
    """The keyring on disk was changed by someone else in a way this unlocked copy cannot verify or merge.

    Typically another process changed the password or rotated the master key after this one unlocked it.
    Nothing was written: unlock the keyring again and repeat the operation.
    """


class CounterRollbackError(KeyringError):
    """A rollback anchor would go backwards: a lower value was offered, or the keyring itself went back in time."""


__all__ = ["CounterRollbackError", "KeyringBusyError", "KeyringChangedError", "KeyringIOError"]
