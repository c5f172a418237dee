"""Where a tenant's data lives beyond its stack (a Fauna child database, or nothing more)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from provisioner.domain.environment import StackRef
from provisioner.domain.tenant import Tenant


class TenantDataSpace(Protocol):
    def ensure(self, tenant: Tenant, ref: StackRef, outputs: Mapping[str, str]) -> dict[str, str]:
        """Make the tenant's data space exist (idempotent); returns facts to publish with the
        stack's outputs (e.g. the name of the secret that holds its key)."""
        ...

    def remove(self, tenant: Tenant, ref: StackRef) -> None:
        """Delete the tenant's data space and its secrets; removing nothing is not an error."""
        ...
