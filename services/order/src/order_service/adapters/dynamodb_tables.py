"""Which DynamoDB table holds a tenant's orders, and the client that reaches them.

Basic tier: the service's pooled table; premium: the tenant's own `tenant-<id>-orders`. Both in
the region of the tenant's region group. The client comes from TenantScopedClients: it acts for
that tenant alone (credentials scoped to the tenant's keys), so a key of another tenant is
refused by AWS, whatever the code asks."""

from __future__ import annotations

from typing import Any

from order_service.ports.tenant_scoped_clients import TenantScopedClients
from tenant_context import TenantContext, Tier


class RegionalTables:
    def __init__(self, *, pooled_table: str, clients: TenantScopedClients) -> None:
        self.pooled_table = pooled_table
        self._clients = clients

    def client(self, ctx: TenantContext) -> Any:
        return self._clients.dynamodb(ctx)

    def data_table(self, ctx: TenantContext) -> str:
        if ctx.tier is Tier.PREMIUM:
            return f"tenant-{ctx.tenant_id}-orders"
        return self.pooled_table
