"""The rollback anchor: a monotonic counter per audit log, kept where the log's files are not.

Why: the checkpoint stops entries being cut off the end of ``audit.log``, but restoring an older copy of *both*
files (log and checkpoint from yesterday's backup) gives a log that is complete and authentic as of yesterday;
every entry since then is gone without trace. The checkpoint's entry count is already a MACed counter that only
grows, so it is anchored: after every checkpoint write the same count is recorded in the keyring
(``UnlockedKeyring.advance_counter``, sealed under the keyring's MAC), and a log whose checkpoint names fewer
entries than the anchor was rolled back.

Why "anchor <= checkpoint is fine, anchor > checkpoint is a rollback": the writer moves the checkpoint first
and the anchor second, and acknowledges the append only after both. A crash between the two leaves the anchor
one behind the checkpoint, which is accepted and caught up on the next open; the opposite order would turn
every such crash into a false alarm. A checkpoint behind the anchor can only be an older copy.

The limit: rolling back the keyring together with the log is not detectable, since the anchor is then old too.
Only storage the attacker cannot rewind (a TPM monotonic counter, an external witness) closes that.
"""

from __future__ import annotations

from typing import Protocol

from aico_secure.errors import AicoSecureError
from aico_secure.keys import UnlockedKeyring
from aico_secure.keys.errors import CounterRollbackError

NAME_PREFIX = "audit-log:"


class AnchorError(AicoSecureError):
    """The anchor could not be read or advanced (the keyring could not be written)."""


class RollbackAnchor(Protocol):
    def get(self, log_id: bytes) -> int:
        """The highest entry count recorded for log ``log_id`` (0 if none)."""

    def advance(self, log_id: bytes, count: int) -> None:
        """Record that log ``log_id`` has reached ``count`` entries; never moves the anchor back."""


def counter_name(log_id: bytes) -> str:
    """One counter per log (a keyring may serve several logs), named by the log's random id."""
    return NAME_PREFIX + log_id.hex()


class KeyringAnchor:
    """``RollbackAnchor`` on the keyring's monotonic counters."""

    def __init__(self, keyring: UnlockedKeyring) -> None:
        self._keyring = keyring

    def __repr__(self) -> str:
        return "KeyringAnchor(<keyring>)"

    def get(self, log_id: bytes) -> int:
        try:
            return int(self._keyring.counter(counter_name(log_id)))
        except (OSError, ValueError, AicoSecureError) as exc:
            raise AnchorError(f"the audit log's rollback anchor cannot be read ({type(exc).__name__})") from None

    def advance(self, log_id: bytes, count: int) -> None:
        try:
            self._keyring.advance_counter(counter_name(log_id), count)
        except CounterRollbackError:
            raise AnchorError("the audit log's rollback anchor is ahead of the log: it was rolled back while "
                              "open") from None
        except (OSError, ValueError, AicoSecureError) as exc:
            raise AnchorError(f"the audit log's rollback anchor cannot be advanced ({type(exc).__name__})") \
                from None
