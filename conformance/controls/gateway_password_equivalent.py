"""The server keeps a password-equivalent: enrolment hands the server the password, which derives the SRP
verifier itself and also keeps the SRP private value ``x`` "to speed up logins". Whoever reads the credential
store can log in as the user without knowing the password."""

from __future__ import annotations

from aico_secure.gateway.runtime import GatewayRuntime
from aico_secure.gateway.srp import DEFAULT_GROUP, compute_x, new_salt
from aico_secure.gateway.users import UserStore
from aico_secure.reference.consent import ReferenceConsent
from aico_secure.reference.gateway import ReferenceGateway, ReferenceRunningGateway
from aico_secure.target import Target

from ._base import reference_with

BREAKS = ("AICO-GW-001",)


class UsersKeepingX(UserStore):
    def enrol_with_password(self, username: str, password: str) -> None:
        salt = new_salt()
        x = compute_x(DEFAULT_GROUP, salt, username, password)
        self.enrol(username, DEFAULT_GROUP, salt, pow(DEFAULT_GROUP.g, x, DEFAULT_GROUP.N))
        with self._lock:
            records = {**self._records, username: {**self._records[username], "x": format(x, "x")}}
            self._file.save({"users": records})
            self._records = records


class KeepingXRuntime(GatewayRuntime):
    users_class = UsersKeepingX


class ServerSideEnrolment(ReferenceRunningGateway):
    def register(self, username: str, password: str) -> None:
        users = self.runtime.state.users
        assert isinstance(users, UsersKeepingX)
        users.enrol_with_password(username, password)


class KeepingXGateway(ReferenceGateway):
    runtime_class = KeepingXRuntime
    running_class = ServerSideEnrolment


def build() -> Target:
    return reference_with("server stores a password-equivalent (SRP x)",
                          gateway=KeepingXGateway(consent=ReferenceConsent()))
