"""Who may grant and revoke what: the permission-level rules, as pure functions.

Each returns the reason for a refusal, or None when the change is allowed, so the service can audit the
reason and tests can state the rules one by one.

* A plugin never grants, not even to itself: consent is the user's, and a plugin granting itself access is
  exactly what consent exists to prevent. A plugin may revoke (give up) its own grants.
* Personal data (``user_data`` categories) is granted only by the user. Not by a system component either:
  "explicit user consent required for all data access".
* System categories are granted by system actors, to system actors only: no plugin or user-level actor ever
  holds them, which is what stops escalation through a grant.
* An actor id has one level: once pinned (seen in a grant), any other level presented for it is refused.
"""

from __future__ import annotations

from collections.abc import Mapping

from aico_secure.target.consent import Actor, PermissionLevel


def level_refusal(actor: Actor, pinned: Mapping[str, PermissionLevel]) -> str | None:
    known = pinned.get(actor.id)
    if known is not None and known != actor.level:
        return f"actor {actor.id!r} is a {known} actor and cannot act as {actor.level}"
    return None


def grant_refusal(by: Actor, subject: Actor, category_level: PermissionLevel) -> str | None:
    if by.level == "plugin":
        return "a plugin cannot grant access, to itself or to anyone"
    if category_level == "system":
        if by.level != "system":
            return "only a system actor grants access to a system category"
        if subject.level != "system":
            return "system categories are granted to system actors only"
        return None
    if by.level != "user_data":
        return "personal data categories are granted by the user only"
    return None


def revoke_refusal(by: Actor, subject_id: str, category_level: PermissionLevel) -> str | None:
    if by.id == subject_id or by.level == "system":
        return None  # giving up one's own access, or a core component withdrawing access, only reduces access
    if by.level == "plugin":
        return "a plugin may revoke only its own grants"
    if category_level == "system":
        return "only a system actor revokes grants of a system category"
    return None
