"""How the adapters reach one tenant's DynamoDB items: with credentials scoped to that tenant.

The function's own role has no DynamoDB permission on tenant data; a client from here acts as
the service's tenant-access role for one tenant, which AWS lets touch that tenant's keys only
(README, "Tenant isolation")."""

from __future__ import annotations

from typing import Any, Protocol

from tenant_context import TenantContext


class TenantScopedClients(Protocol):
    def dynamodb(self, tenant: TenantContext) -> Any:
        """The DynamoDB client of the tenant's region, acting for that tenant alone."""
        ...
