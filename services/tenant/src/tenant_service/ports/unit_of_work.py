"""Writes: a unit of work for one tenant and one cause commits the tenant and user changes,
their outbox messages and, for a reaction, the processed-event marker in one transaction, or
nothing (docs/conventions.md, "Writes: a unit of work")."""

from __future__ import annotations

from types import TracebackType
from typing import Protocol

from pydantic import BaseModel

from tenant_context import Cause, TenantContext
from tenant_service.domain.tenant import Tenant
from tenant_service.domain.users import TenantUser


class EventAlreadyProcessed(Exception):
    """The cause's event was processed before (its marker exists): nothing was written."""

    def __init__(self, event_id: str) -> None:
        super().__init__(f"event {event_id!r} was already processed")
        self.event_id = event_id


class TenantChanges(Protocol):
    def add(self, tenant: Tenant) -> None:
        """A new tenant (ConcurrentModification at commit when its id exists)."""
        ...

    def save(self, tenant: Tenant) -> None:
        """A changed tenant, written if its stored version is `tenant.version - 1` (else
        ConcurrentModification at commit)."""
        ...


class UserChanges(Protocol):
    def add(self, user: TenantUser) -> None:
        """A new user of the tenant (UserAlreadyExists at commit when its username exists)."""
        ...

    def save(self, user: TenantUser) -> None:
        """A changed user (UserNotFound at commit when it no longer exists)."""
        ...

    def remove(self, user: TenantUser) -> None:
        """The user deleted (UserNotFound at commit when it no longer exists)."""
        ...


class UnitOfWork(Protocol):
    @property
    def tenants(self) -> TenantChanges: ...

    @property
    def users(self) -> UserChanges: ...

    def emit(self, event: BaseModel) -> None:
        """An event to publish, committed as an outbox message with the changes."""
        ...

    def commit(self) -> None:
        """Write everything staged, all or nothing; for a reaction (`cause.event_id` set), its
        processed marker too (EventAlreadyProcessed when the marker exists)."""
        ...

    def __enter__(self) -> UnitOfWork: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Leaving without commit() discards what was staged."""
        ...


class UnitOfWorkFactory(Protocol):
    def __call__(self, ctx: TenantContext, cause: Cause) -> UnitOfWork: ...
