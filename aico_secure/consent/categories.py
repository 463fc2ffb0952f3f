"""The data categories of the reference build and the level that owns each.

``system`` categories hold what core components need (configuration, the audit trail as data); they are
granted by and to system actors only. ``user_data`` categories hold personal information; only the user (a
``user_data`` actor) grants them, to themself, to a system component or to a plugin.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from aico_secure.target.consent import PermissionLevel

DEFAULT_CATEGORIES: Mapping[str, PermissionLevel] = MappingProxyType({
    "system_config": "system",
    "audit_records": "system",
    "profile": "user_data",
    "conversations": "user_data",
    "memories": "user_data",
    "embeddings": "user_data",
    "contacts": "user_data",
    "health": "user_data",
    "location": "user_data",
})
