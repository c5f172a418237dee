"""Reactions to the provisioner's events: the tenant's status follows its environment.

Idempotent by event id: the processed-event marker is committed by the unit of work with the
change, and an event that no longer applies (a duplicate, or one overtaken by a later change)
commits its marker alone.
"""

from __future__ import annotations

from datetime import datetime

from tenant_context import Cause
from tenant_service.app.access import TenantAccess
from tenant_service.app.tenants import tenant_context
from tenant_service.domain.errors import TenantNotFound, UserAlreadyExists
from tenant_service.domain.events import TenantUserCreated
from tenant_service.domain.tenant import Tenant
from tenant_service.domain.users import Invitation, TenantUser, UserRole
from tenant_service.ports.clock import Clock
from tenant_service.ports.identity_provider import IdentityProvider, InvitationSender
from tenant_service.ports.tenant_repository import TenantRepository
from tenant_service.ports.unit_of_work import EventAlreadyProcessed, UnitOfWorkFactory


class ProvisioningReactions:
    def __init__(
        self,
        repository: TenantRepository,
        uow: UnitOfWorkFactory,
        identity: IdentityProvider,
        invitations: InvitationSender,
        clock: Clock,
        access: TenantAccess,
    ) -> None:
        self._repository = repository
        self._uow = uow
        self._identity = identity
        self._invitations = invitations
        self._clock = clock
        self._access = access

    def provisioned(self, tenant_id: str, cause: Cause) -> Tenant | None:
        """PROVISIONING -> ACTIVE, and the tenant's first admin user is created and invited."""
        tenant = self._pending(tenant_id, cause)
        if tenant is None:
            return None
        active = tenant.provisioned(self._clock.now())
        if active is None:
            return self._apply(tenant, cause, None)
        # Its limits: a usage key in its tier's plans (created before the record says ACTIVE,
        # so the authorizer never lets it in unmetered; put_key is idempotent on a retry).
        active = active.with_usage_key(self._access.usage_key(tenant.id, tenant.tier.value))
        invitation: Invitation | None
        try:
            invitation = self._identity.create_user(
                tenant_id=tenant.id, email=tenant.admin_email, role=UserRole.TENANT_ADMIN
            )
        except UserAlreadyExists:
            # A retry after the identity was created but before the record was saved: invite
            # that user again (None when the email belongs to someone else: no admin is made).
            invitation = self._identity.reinvite(
                tenant_id=tenant.id, email=tenant.admin_email, role=UserRole.TENANT_ADMIN
            )
        try:
            with self._uow(tenant_context(active), cause) as uow:
                uow.tenants.save(active)
                if invitation is not None:
                    admin = TenantUser(
                        tenant_id=tenant.id,
                        username=invitation.username,
                        email=tenant.admin_email,
                        role=UserRole.TENANT_ADMIN,
                        created_at=self._clock.now(),
                    )
                    uow.users.add(admin)
                    uow.emit(
                        TenantUserCreated(
                            tenant_id=tenant.id,
                            username=admin.username,
                            email=admin.email,
                            role=admin.role.value,
                        )
                    )
                uow.commit()
        except EventAlreadyProcessed:
            return None
        if invitation is not None:
            self._invitations.send(invitation)
        return active

    def provisioning_failed(self, tenant_id: str, cause: Cause, reason: str) -> Tenant | None:
        tenant = self._pending(tenant_id, cause)
        if tenant is None:
            return None
        return self._apply(tenant, cause, tenant.provisioning_failed(reason, self._clock.now()))

    def deprovisioned(self, tenant_id: str, cause: Cause) -> Tenant | None:
        tenant = self._pending(tenant_id, cause)
        if tenant is None:
            return None
        return self._apply(tenant, cause, tenant.deprovisioned(self._clock.now()))

    def released(self, tenant_id: str) -> None:
        """The tenant's environment is gone: so is its own usage key."""
        self._access.release(tenant_id)

    def standing_changed(self, tenant_id: str, changed_at: datetime) -> int:
        """Suspended, activated, offboarding, another tier (or any other change of who may do
        what: the console's user changes call it too): every token learns of it within the
        bound of app/access.py. Returns the number of stage flushes."""
        return self._access.revoke(changed_at)

    def tier_changed(self, tenant_id: str, cause: Cause) -> Tenant | None:
        """Its usage key moves to the new tier's plans (a shard key: the new tier's shard)."""
        tenant = self._pending(tenant_id, cause)
        if tenant is None:
            return None
        key = self._access.usage_key(tenant.id, tenant.tier.value, current=tenant.usage_key)
        return self._apply(tenant, cause, tenant.rekeyed(key, self._clock.now()))

    def _pending(self, tenant_id: str, cause: Cause) -> Tenant | None:
        """The tenant, or None when this event was already processed."""
        if cause.event_id and self._repository.was_processed(tenant_id, cause.event_id):
            return None
        tenant = self._repository.get(tenant_id)
        if tenant is None:
            raise TenantNotFound(tenant_id)
        return tenant

    def _apply(self, tenant: Tenant, cause: Cause, changed: Tenant | None) -> Tenant | None:
        """Commit the change (or, when the event changes nothing, its marker alone)."""
        try:
            with self._uow(tenant_context(changed or tenant), cause) as uow:
                if changed is not None:
                    uow.tenants.save(changed)
                uow.commit()
        except EventAlreadyProcessed:
            return None
        return changed
