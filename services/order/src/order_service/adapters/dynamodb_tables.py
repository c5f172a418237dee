"""Which DynamoDB table, in which region, holds a tenant's orders.

Basic tier: the service's pooled table; premium: the tenant's own `tenant-<id>-orders`. Both in
the region of the tenant's region group. One boto3 client per region, built once per process.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from tenant_context import TenantContext, Tier

ClientFactory = Callable[[str], Any]


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
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def region(self, ctx: TenantContext) -> str:
        try:
            return self._region_map[ctx.region_group.value]
        except KeyError:
            raise LookupError(f"no region configured for group {ctx.region_group.value}") from None

    def client(self, ctx: TenantContext) -> Any:
        region = self.region(ctx)
        with self._lock:
            if region not in self._clients:
                self._clients[region] = self._client_factory(region)
            return self._clients[region]

    def data_table(self, ctx: TenantContext) -> str:
        if ctx.tier is Tier.PREMIUM:
            return f"tenant-{ctx.tenant_id}-orders"
        return self.pooled_table


def boto3_client_factory(service: str, endpoint_url: str | None = None) -> ClientFactory:
    def build(region: str) -> Any:
        import boto3  # heavy: only when a region is first used

        return boto3.session.Session().client(
            service, region_name=region, endpoint_url=endpoint_url
        )

    return build
