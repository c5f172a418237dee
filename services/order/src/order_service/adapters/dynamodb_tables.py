"""Which DynamoDB table, in which region, holds a tenant's orders.

Basic tier: the service's pooled table; premium: the tenant's own `tenant-<id>-orders`. Both in
the region of the tenant's region group. Clients come from the container's AwsClients (one per
region per process)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from tenant_context import TenantContext, Tier

if TYPE_CHECKING:
    from botocore.client import BaseClient

# region -> the DynamoDB client of that region
ClientFactory = Callable[[str], "BaseClient"]


class RegionalTables:
    def __init__(
        self,
        *,
        pooled_table: str,
        region_map: Mapping[str, str],
        client_factory: ClientFactory,
    ) -> None:
        self.pooled_table = pooled_table
        self._region_map = dict(region_map)
        self._client_factory = client_factory

    def region(self, ctx: TenantContext) -> str:
        try:
            return self._region_map[ctx.region_group.value]
        except KeyError:
            raise LookupError(f"no region configured for group {ctx.region_group.value}") from None

    def client(self, ctx: TenantContext) -> BaseClient:
        return self._client_factory(self.region(ctx))

    def data_table(self, ctx: TenantContext) -> str:
        if ctx.tier is Tier.PREMIUM:
            return f"tenant-{ctx.tenant_id}-orders"
        return self.pooled_table
