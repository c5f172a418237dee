"""Use cases on tenants: onboarding, reading, changing and offboarding them."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from tenant_context import Cause, Principal, Role, TenantContext
from tenant_context import RegionGroup as ContextRegionGroup
from tenant_context import Tier as ContextTier
from tenant_service.domain.errors import (
    ConcurrentModification,
    RequestKeyReused,
    TenantNotFound,
)
from tenant_service.domain.tenant import RegionGroup, Tenant, Tier
from tenant_service.ports.clock import Clock, IdGenerator
from tenant_service.ports.tenant_repository import Page, TenantRepository
from tenant_service.ports.unit_of_work import UnitOfWorkFactory

SERVICE = "saas.tenant"


class Forbidden(Exception):
    """The caller's role may not do this (the authorizer normally stops it first)."""


@dataclass(frozen=True, slots=True)
class RegisterTenant:
    name: str
    tier: Tier
    region_group: RegionGroup
    admin_email: str
    config: dict[str, str]
    # The caller's Idempotency-Key (with its user id): the tenant's id is derived from it, so a
    # retry registers the same tenant once even when an earlier attempt committed and then died
    # before it could answer (its Powertools record left in progress, then expired).
    request_key: str | None = None


def tenant_context(tenant: Tenant) -> TenantContext:
    """This service acting inside the tenant: the context its events carry."""
    return TenantContext(
        tenant_id=tenant.id,
        role=Role.SERVICE,
        user_id=SERVICE,
        tier=ContextTier(tenant.tier.value),
        region_group=ContextRegionGroup(tenant.region_group.value),
    )


def require_system_admin(caller: Principal) -> None:
    if caller.role is not Role.SYSTEM_ADMIN:
        raise Forbidden(f"{caller.role.value} may not manage tenants")


class TenantUseCases:
    def __init__(
        self,
        repository: TenantRepository,
        uow: UnitOfWorkFactory,
        clock: Clock,
        ids: IdGenerator,
    ) -> None:
        self._repository = repository
        self._uow = uow
        self._clock = clock
        self._ids = ids

    def register(self, caller: Principal, command: RegisterTenant) -> Tenant:
        require_system_admin(caller)
        key = command.request_key
        tenant, event = Tenant.register(
            tenant_id=self._ids.new_id() if key is None else self._ids.id_for(key),
            name=command.name,
            tier=command.tier,
            region_group=command.region_group,
            admin_email=command.admin_email,
            config=command.config,
            now=self._clock.now(),
        )
        try:
            with self._uow(tenant_context(tenant), Cause()) as uow:
                uow.tenants.add(tenant)
                uow.emit(event)
                uow.commit()
        except ConcurrentModification:
            before = None if key is None else self._repository.get(tenant.id)
            if before is None:  # not a tenant this key registered: a conflict, answered 409
                raise
            return self._registered_before(before, command)
        return tenant

    @staticmethod
    def _registered_before(tenant: Tenant, command: RegisterTenant) -> Tenant:
        """The tenant this request's key registered already (an earlier attempt), as it is now;
        RequestKeyReused when that attempt asked for another tenant. What a tenant keeps for
        life is compared (its tier and config may have been changed since: the retry of the
        original request is still that request)."""
        asked = (command.name, command.region_group, command.admin_email)
        if (tenant.name, tenant.region_group, tenant.admin_email) != asked:
            raise RequestKeyReused(tenant.id)
        return tenant

    def get(self, caller: Principal, tenant_id: str) -> Tenant:
        # Another tenant's record does not exist for a TenantAdmin: 404, never 403.
        if caller.role is not Role.SYSTEM_ADMIN and caller.tenant_id != tenant_id:
            raise TenantNotFound(tenant_id)
        if caller.role is Role.TENANT_USER:
            raise TenantNotFound(tenant_id)
        return self._load(tenant_id)

    def list(self, caller: Principal, *, limit: int, next_token: str | None) -> Page[Tenant]:
        require_system_admin(caller)
        return self._repository.list(limit=limit, next_token=next_token)

    def update(
        self,
        caller: Principal,
        tenant_id: str,
        *,
        tier: Tier | None,
        config: dict[str, str] | None,
    ) -> Tenant:
        require_system_admin(caller)
        tenant = self._load(tenant_id)
        changed, event = tenant.update(tier=tier, config=config, now=self._clock.now())
        self._save(changed, event)
        return changed

    def suspend(self, caller: Principal, tenant_id: str) -> Tenant:
        require_system_admin(caller)
        tenant = self._load(tenant_id)
        changed, event = tenant.suspend(self._clock.now())
        self._save(changed, event)
        return changed

    def activate(self, caller: Principal, tenant_id: str) -> Tenant:
        require_system_admin(caller)
        tenant = self._load(tenant_id)
        changed, event = tenant.activate(self._clock.now())
        self._save(changed, event)
        return changed

    def retry_provisioning(self, caller: Principal, tenant_id: str) -> Tenant:
        """PROVISIONING_FAILED -> PROVISIONING; TransitionNotAllowed from any other status."""
        require_system_admin(caller)
        tenant = self._load(tenant_id)
        changed, event = tenant.retry_provisioning(self._clock.now())
        self._save(changed, event)
        return changed

    def offboard(self, caller: Principal, tenant_id: str) -> Tenant:
        """Idempotent, as DELETE is: a tenant already leaving (or gone) is returned as it is,
        with no second TenantOffboardingRequested; so is one whose offboarding a concurrent
        request committed first."""
        require_system_admin(caller)
        tenant = self._load(tenant_id)
        if tenant.leaving:
            return tenant
        changed, event = tenant.request_offboarding(self._clock.now())
        try:
            self._save(changed, event)
        except ConcurrentModification:
            current = self._load(tenant_id)
            if current.leaving:
                return current
            raise
        return changed

    def _save(self, changed: Tenant, event: BaseModel) -> None:
        with self._uow(tenant_context(changed), Cause()) as uow:
            uow.tenants.save(changed)
            uow.emit(event)
            uow.commit()

    def _load(self, tenant_id: str) -> Tenant:
        tenant = self._repository.get(tenant_id)
        if tenant is None:
            raise TenantNotFound(tenant_id)
        return tenant
