"""How the tenant-serving function reaches one tenant's items: with credentials scoped to that
tenant.

The function's own role has no DynamoDB permission; a client from here acts as the service's
tenant-access role for one tenant, which AWS lets touch that tenant's record in the tenant
directory and its `TENANT#<id>` partition of the service table, nothing else (README, "Tenant
isolation"). The tenant service's tables live in its own region, whatever the tenant's region
group: a tenant id is all it takes to scope a client."""

from __future__ import annotations

from typing import Any, Protocol


class TenantScopedClients(Protocol):
    def dynamodb(self, tenant_id: str) -> Any:
        """The DynamoDB client of this service's region, acting for that tenant alone."""
        ...
