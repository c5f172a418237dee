"""boto3 clients per region, built once per process and reused across warm invocations.
The tenant's region group picks the region (configuration: REGION_MAP)."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from tenant_context import TenantContext


class RegionalClients:
    def __init__(self, region_map: Mapping[str, str], endpoint_url: str | None = None) -> None:
        self._region_map = dict(region_map)
        self._endpoint_url = endpoint_url
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    def region_of(self, tenant: TenantContext) -> str:
        try:
            return self._region_map[tenant.region_group.value]
        except KeyError:
            raise LookupError(
                f"region group {tenant.region_group.value!r} is not in the region map"
            ) from None

    def client(self, service: str, region: str) -> Any:
        key = (service, region)
        client = self._clients.get(key)
        if client is None:
            with self._lock:  # boto3's default session is not safe to build clients concurrently
                client = self._clients.get(key)
                if client is None:
                    import boto3

                    client = boto3.session.Session().client(
                        service, region_name=region, endpoint_url=self._endpoint_url
                    )
                    self._clients[key] = client
        return client

    def for_tenant(self, service: str, tenant: TenantContext) -> Any:
        return self.client(service, self.region_of(tenant))
