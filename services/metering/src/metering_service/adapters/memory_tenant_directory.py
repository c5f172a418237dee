"""The tenant directory in memory: tests and BACKEND=memory (None: every tenant exists)."""

from __future__ import annotations

from collections.abc import Iterable


class MemoryTenantDirectory:
    def __init__(self, tenants: Iterable[str] | None = None) -> None:
        self.tenants = None if tenants is None else set(tenants)

    def exists(self, tenant_id: str) -> bool:
        return self.tenants is None or tenant_id in self.tenants
