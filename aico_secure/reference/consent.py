"""The reference build's consent capability: ``aico_secure.consent`` behind the contract.

Data reached through the service lives in the store the build wires in (``store``, e.g. the reference's
libSQL store once it is assembled) or, without one, in a sealed record file in the consent directory.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from aico_secure.audit.events import AuditSink, NullAuditSink
from aico_secure.consent import ConsentManager, DataAccess
from aico_secure.consent.access import Records
from aico_secure.consent.errors import ConsentStateCorrupt, PermissionDenied
from aico_secure.consent.records import SealedRecordFile
from aico_secure.target.consent import Actor, Grant, Operation, PermissionLevel
from aico_secure.target.errors import AccessDenied, ContractError, IntegrityViolation
from aico_secure.target.keys import KeySession
from aico_secure.target.stores import RecordStore, StoreCapability

Clock = Callable[[], float]
RECORDS_NAME = "records.sealed"


@contextmanager
def _contract_errors() -> Iterator[None]:
    try:
        yield
    except PermissionDenied as exc:
        raise AccessDenied(str(exc)) from None
    except ConsentStateCorrupt as exc:
        raise IntegrityViolation(str(exc)) from None


class ReferenceConsentService:
    def __init__(self, manager: ConsentManager, access: DataAccess) -> None:
        self.manager = manager
        self.access = access

    def __repr__(self) -> str:
        return f"ReferenceConsentService({self.manager!r})"

    def categories(self) -> Mapping[str, PermissionLevel]:
        return self.manager.categories()

    def grant(self, by: Actor, subject: Actor, category: str, operation: Operation, *,
              ttl_seconds: float) -> Grant:
        with _contract_errors():
            return self.manager.grant(by, subject, category, operation, ttl_seconds=ttl_seconds)

    def revoke(self, by: Actor, subject: str, category: str, operation: Operation) -> None:
        with _contract_errors():
            self.manager.revoke(by, subject, category, operation)

    def active_grants(self, subject: str) -> list[Grant]:
        with _contract_errors():
            return self.manager.active_grants(subject)

    def max_grant_seconds(self) -> float:
        """The lifetime cap the manager enforces (longer grants are refused), declared so it can be checked."""
        return self.manager.max_ttl_seconds

    def is_allowed(self, actor: Actor, category: str, operation: Operation) -> bool:
        with _contract_errors():
            return self.manager.check(actor, category, operation)

    def read(self, actor: Actor, category: str, record: str) -> bytes | None:
        with _contract_errors():
            return self.access.read(actor, category, record)

    def write(self, actor: Actor, category: str, record: str, value: bytes) -> None:
        with _contract_errors():
            self.access.write(actor, category, record, value)

    def delete(self, actor: Actor, category: str, record: str) -> None:
        with _contract_errors():
            self.access.delete(actor, category, record)

    def close(self) -> None:
        self.access.close()


class ReferenceConsent:
    def __init__(self, store: StoreCapability | None = None) -> None:
        self.store = store

    def records(self, session: KeySession, directory: Path, audit: AuditSink) -> Records:
        """Where guarded data lives: the wired store (reporting to the same audit sink), else a sealed file."""
        if self.store is not None and self.store.kind == "records":
            opened = self.store.open(session, directory / "records", audit=audit)
            if not isinstance(opened, RecordStore):
                raise ContractError(f"store {self.store.name!r} did not open as a record store")
            return opened
        return SealedRecordFile(session, directory / RECORDS_NAME)

    def manager(self, session: KeySession, directory: Path, audit: AuditSink, clock: Clock) -> ConsentManager:
        """The consent manager (negative controls substitute a flawed one here)."""
        return ConsentManager.open(session, directory, audit=audit, clock=clock)

    def open(self, session: KeySession, directory: Path, *, audit: AuditSink | None = None,
             clock: Clock | None = None) -> ReferenceConsentService:
        directory = Path(directory)
        sink = audit or NullAuditSink()
        with _contract_errors():
            manager = self.manager(session, directory, sink, clock or time.time)
            return ReferenceConsentService(manager, DataAccess(manager, self.records(session, directory, sink), sink))
