"""TenantDataSpace in memory, for unit tests."""

from __future__ import annotations

from collections.abc import Mapping

from provisioner.domain.environment import StackRef
from provisioner.domain.tenant import Tenant


class MemoryTenantDataSpace:
    def __init__(self) -> None:
        self.spaces: dict[str, dict[str, str]] = {}
        self.removed: list[str] = []

    def ensure(self, tenant: Tenant, ref: StackRef, outputs: Mapping[str, str]) -> dict[str, str]:
        facts = {"DataSpace": f"memory:{tenant.tenant_id}"}
        self.spaces[tenant.tenant_id] = facts
        return facts

    def remove(self, tenant: Tenant, ref: StackRef) -> None:
        self.spaces.pop(tenant.tenant_id, None)
        self.removed.append(tenant.tenant_id)
