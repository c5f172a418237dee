"""Which tenants exist: the usage of an unknown tenant is a 404, not a page of zeros."""

from __future__ import annotations

from typing import Protocol


class TenantDirectory(Protocol):
    def exists(self, tenant_id: str) -> bool: ...
