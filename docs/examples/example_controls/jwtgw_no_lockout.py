"""The JWT gateway example counts failed logins but never refuses one: lockout enforcement is switched off (so
users cannot be locked out by a stranger), which leaves every identity and every address an unlimited number of
online guesses, each reaching the password hash."""

from __future__ import annotations

from jwt_gateway import service, throttle

from aico_secure.reference.consent import ReferenceConsent
from aico_secure.reference.keys import ReferenceKeys
from aico_secure.target import Target

BREAKS = ("AICO-GW-003",)


class UnenforcedLockouts(throttle.Lockouts):
    def refusal(self, username: str, address: str) -> None:
        return None


class UnlockedGateway(service.JwtGateway):
    lockouts_class = UnenforcedLockouts


def build() -> Target:
    return Target(name="negative control: lockout not enforced", version="0", keys=ReferenceKeys(),
                  gateway=UnlockedGateway(consent=ReferenceConsent()))
