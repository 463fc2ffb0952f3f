"""The capability contract for consent and access control.

What the suite checks through it (AICO-CON-001..005):

* **Deny by default.** No actor, whatever its level, reads, writes or deletes data of a category without an
  explicit, unexpired grant for that exact (actor, category, operation).
* **Time-limited grants.** Every grant has a finite lifetime and stops working at ``expires_at`` by the clock the
  service was opened with (``clock`` is injectable so the suite can move time): it works at ``expires_at`` minus
  any tick and never at or after ``expires_at``, whatever the process's local time zone (midnight and daylight
  saving changes included: expiry is a point on the epoch time line, not a local wall-clock reading). No grant
  lasts longer than the declared ``max_grant_seconds()``: a longer request is refused (``ValueError``) or
  clamped to it.
* **Revocation on next access.** After ``revoke`` returns, the very next access is refused.
* **Permission levels.** Actors are ``system`` (core components), ``user_data`` (the user) or ``plugin``
  (third-party code). A plugin never grants or revokes anything for anyone (itself included) and never holds a
  grant for a ``system`` category. An actor id has one level for the life of the consent store: once an id has
  been seen (acting, or as the subject of a grant) with a level, presenting it with another level is refused.
* **Audited checks.** Every access decision is recorded in the ``audit`` sink the service was opened with.

Refusals raise ``aico_secure.target.errors.AccessDenied``; malformed requests (unknown category or operation, a
lifetime that is not a positive finite number) raise ``ValueError``. Neither may change any state.

Audit events a build emits (``aico_secure.audit.events.AuditEvent``), so the suite can find them:

=====================  ==============  =========================================  ===============================
what                   category        action                                     actor / subject
=====================  ==============  =========================================  ===============================
an access decision     ``consent``     ``check``                                  actor id / ``<category>:<op>``
a grant                ``consent``     ``grant``                                  granting id / ``<category>:<op>``
a revocation           ``consent``     ``revoke``                                 revoking id / ``<category>:<op>``
an expiry noticed      ``consent``     ``expire``                                 ``consent`` / ``<category>:<op>``
a data access          ``data_access`` ``read`` / ``write`` / ``delete``           actor id / ``<category>``
=====================  ==============  =========================================  ===============================

``result`` is ``success`` when allowed and ``denied`` when refused; ``details`` carry the subject actor id,
the record name and expiry times, never record contents.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

from aico_secure.audit.events import AuditSink
from aico_secure.target.keys import KeySession

PermissionLevel = Literal["system", "user_data", "plugin"]
Operation = Literal["read", "write", "delete"]
PERMISSION_LEVELS: tuple[PermissionLevel, ...] = ("system", "user_data", "plugin")
OPERATIONS: tuple[Operation, ...] = ("read", "write", "delete")
Clock = Callable[[], float]  # seconds since the Unix epoch, like time.time


@dataclass(frozen=True)
class Actor:
    """Who is acting, as authenticated by the caller (the gateway, the plugin host, the bus).

    The consent service does not authenticate; it pins each id to the first level it sees for it, so the same
    id cannot later claim a higher level.
    """

    id: str
    level: PermissionLevel


@dataclass(frozen=True)
class Grant:
    """One explicit, time-limited permission for ``subject`` to perform ``operation`` on ``category``."""

    subject: str
    category: str
    operation: Operation
    granted_by: str
    granted_at: float
    expires_at: float


@runtime_checkable
class ConsentService(Protocol):
    """An open consent store plus the data-access path guarded by it."""

    def categories(self) -> Mapping[str, PermissionLevel]:
        """Every data category the build knows, with its owning level: ``system`` categories hold system data
        (granted only by and to system actors); ``user_data`` categories hold personal data (granted only by a
        user_data actor, to any actor except that plugins never receive system categories)."""

    def grant(self, by: Actor, subject: Actor, category: str, operation: Operation, *,
              ttl_seconds: float) -> Grant:
        """Give ``subject`` the right to ``operation`` on ``category`` until now + ``ttl_seconds``. Granting
        again replaces the earlier grant. ``AccessDenied`` when ``by`` may not grant it (plugins never may);
        ``ValueError`` for an unknown category/operation or a non-positive, infinite or NaN ``ttl_seconds``."""

    def revoke(self, by: Actor, subject: str, category: str, operation: Operation) -> None:
        """Withdraw a grant; effective for the next access. Revoking a grant that does not exist is a no-op
        (still audited). ``AccessDenied`` when ``by`` may not revoke it (a plugin may only revoke its own)."""

    def active_grants(self, subject: str) -> list[Grant]:
        """The unexpired grants ``subject`` holds now."""

    def max_grant_seconds(self) -> float:
        """Declared policy: the longest lifetime (seconds, finite, positive) any grant may have. A ``grant`` asking
        for more is refused with ``ValueError`` or clamped to this; the suite holds the build to the number."""

    def is_allowed(self, actor: Actor, category: str, operation: Operation) -> bool:
        """The access decision for one operation, audited like a real access."""

    def read(self, actor: Actor, category: str, record: str) -> bytes | None:
        """The stored value, or ``None`` when there is none; ``AccessDenied`` without a live read grant."""

    def write(self, actor: Actor, category: str, record: str, value: bytes) -> None:
        """Store ``value``; ``AccessDenied`` (and nothing written) without a live write grant."""

    def delete(self, actor: Actor, category: str, record: str) -> None:
        """Remove the record; ``AccessDenied`` (and nothing removed) without a live delete grant."""

    def close(self) -> None: ...


@runtime_checkable
class ConsentCapability(Protocol):
    def open(self, session: KeySession, directory: Path, *, audit: AuditSink | None = None,
             clock: Clock | None = None) -> ConsentService:
        """Open (creating if needed) the consent store and its guarded data in ``directory``. Grants persist:
        reopening the same directory with the same keys sees the same grants, revocations and expiries.
        Raise ``IntegrityViolation`` when the stored grants do not authenticate with ``session``'s keys."""
