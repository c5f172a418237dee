"""Where tenants live. Every write commits the state change and its outbox events together."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from tenant_service.domain.tenant import Tenant
from tenant_service.domain.users import TenantUser


@dataclass(frozen=True, slots=True)
class OutboxEvent:
    """An event waiting in the outbox: detail-type and the full envelope (`detail`)."""

    event_id: str
    detail_type: str
    detail: dict[str, object]


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next_token: str | None


class TenantRepository(Protocol):
    def get(self, tenant_id: str) -> Tenant | None: ...

    def list(self, *, limit: int, next_token: str | None) -> Page[Tenant]:
        """Raises InvalidPageToken for a token this repository did not issue."""
        ...

    def add(self, tenant: Tenant, events: Sequence[OutboxEvent]) -> None:
        """Create the tenant (its id must be new) and its events, in one transaction."""
        ...

    def save(
        self,
        tenant: Tenant,
        events: Sequence[OutboxEvent],
        *,
        processed_event_id: str | None = None,
        new_user: TenantUser | None = None,
    ) -> None:
        """Replace the tenant if its stored version is `tenant.version - 1` (else
        ConcurrentModification), write its events and, for a reaction, the processed-event
        marker and the user it created, all in one transaction."""
        ...

    def was_processed(self, tenant_id: str, event_id: str) -> bool: ...

    def mark_processed(self, tenant_id: str, event_id: str) -> None:
        """Record an event that needed no state change, so its duplicate is skipped."""
        ...

    def add_user(self, user: TenantUser, events: Sequence[OutboxEvent]) -> None:
        """Record a tenant user and its event in one transaction (UserAlreadyExists if known)."""
        ...

    def user_by_email(self, tenant_id: str, email: str) -> TenantUser | None: ...

    def list_users(
        self, tenant_id: str, *, limit: int, next_token: str | None
    ) -> Page[TenantUser]: ...
