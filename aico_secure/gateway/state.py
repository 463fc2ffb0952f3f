"""Opening a gateway's directory: its instance id, enrolled users, revocation list and lockout state, all sealed.

A new directory gets all four files at once. An existing one must still have all four: a missing revocation
list would otherwise silently un-revoke every token, and a missing lockout file would hand out fresh guesses,
so either is refused as damage. Deleting every file starts a
new instance with a new audience, which no token issued before is valid for.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from aico_secure.gateway.errors import GatewayStateError
from aico_secure.gateway.lockouts import LockoutStore
from aico_secure.gateway.revocation import RevocationList
from aico_secure.gateway.sealed import SealedJson
from aico_secure.gateway.users import USERS_FILE, UserStore
from aico_secure.keys import UnlockedKeyring

INSTANCE_FILE = "gateway.sealed"
AUDIENCE_PREFIX = "aico-gateway/"


@dataclass
class GatewayState:
    directory: Path
    audience: str
    users: UserStore
    revocations: RevocationList
    lockouts: LockoutStore


def open_state(keyring: UnlockedKeyring, directory: Path, clock: Callable[[], float], *,
               users_class: type[UserStore] = UserStore,
               revocations_class: type[RevocationList] = RevocationList) -> GatewayState:
    directory = Path(directory)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    instance = SealedJson(keyring, directory / INSTANCE_FILE, "instance")
    revocations = revocations_class(keyring, directory, clock)
    lockouts = LockoutStore(keyring, directory)
    if instance.exists():
        document = instance.load()
        instance_id = document.get("instance")
        if not isinstance(instance_id, str) or not instance_id:
            raise GatewayStateError("gateway instance file is malformed")
        if not revocations.exists() or not (directory / USERS_FILE).exists() or not lockouts.exists():
            raise GatewayStateError("gateway state is incomplete: the revocation list, user table or lockout "
                                    "state is missing")
    else:
        if revocations.exists() or (directory / USERS_FILE).exists() or lockouts.exists():
            raise GatewayStateError("gateway state is incomplete: the instance file is missing")
        instance_id = secrets.token_hex(16)
        users_class(keyring, directory).create()
        revocations.create()
        lockouts.create()
        instance.save({"instance": instance_id})
    return GatewayState(directory, AUDIENCE_PREFIX + instance_id, users_class(keyring, directory), revocations,
                        lockouts)
