"""Reading tenants and their users. Writes go through a unit of work (ports/unit_of_work.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from tenant_service.domain.tenant import Tenant
from tenant_service.domain.users import TenantUser

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

    def was_processed(self, tenant_id: str, event_id: str) -> bool:
        """Whether a reaction to this event was committed (its processed marker exists)."""
        ...

    def user(self, tenant_id: str, username: str) -> TenantUser | None: ...

    def user_by_email(self, tenant_id: str, email: str) -> TenantUser | None: ...

    def list_users(
        self, tenant_id: str, *, limit: int, next_token: str | None
    ) -> Page[TenantUser]: ...
