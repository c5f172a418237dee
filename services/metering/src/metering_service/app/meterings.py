"""The use cases: each opens a unit of work for one tenant and one cause."""

from __future__ import annotations

import uuid

from metering_service.domain.model import Metering
from metering_service.ports.unit_of_work import UnitOfWorkFactory
from tenant_context import Cause, TenantContext


class Meterings:
    def __init__(self, unit_of_work: UnitOfWorkFactory) -> None:
        self._uow = unit_of_work

    def create(self, ctx: TenantContext, name: str, cause: Cause) -> Metering:
        created = Metering.create(str(uuid.uuid4()), name)
        with self._uow(ctx, cause) as uow:
            uow.meterings.add(created)
            uow.commit()
        return created

    def get(self, ctx: TenantContext, metering_id: str) -> Metering:
        with self._uow(ctx, Cause()) as uow:
            return uow.meterings.get(metering_id)

    def purge_tenant(self, ctx: TenantContext, cause: Cause) -> int:
        """Every metering of the tenant, gone (the tenant was deprovisioned)."""
        with self._uow(ctx, cause) as uow:
            deleted = uow.meterings.delete_all()
            uow.commit()
        return deleted
