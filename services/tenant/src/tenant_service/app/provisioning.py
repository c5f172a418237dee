"""Reactions to the provisioner's events: the tenant's status follows its environment.

Idempotent by event id: the processed-event marker is written in the same transaction as the
change, and an event that no longer applies (a duplicate, or one overtaken by a later change)
only leaves its marker.
"""

from __future__ import annotations

from dataclasses import dataclass

from tenant_service.app.outbox import outbox_event
from tenant_service.domain.errors import TenantNotFound, UserAlreadyExists
from tenant_service.domain.events import TenantUserCreated
from tenant_service.domain.tenant import Tenant
from tenant_service.domain.users import Invitation, TenantUser, UserRole
from tenant_service.ports.clock import Clock
from tenant_service.ports.identity_provider import IdentityProvider, InvitationSender
from tenant_service.ports.tenant_repository import TenantRepository


@dataclass(frozen=True, slots=True)
class Cause:
    """The event we react to: its id (idempotency) and the ids a reaction passes on."""

    event_id: str
    correlation_id: str
    tenant_id: str


class ProvisioningReactions:
    def __init__(
        self,
        repository: TenantRepository,
        identity: IdentityProvider,
        invitations: InvitationSender,
        clock: Clock,
    ) -> None:
        self._repository = repository
        self._identity = identity
        self._invitations = invitations
        self._clock = clock

    def provisioned(self, cause: Cause) -> Tenant | None:
        """PROVISIONING -> ACTIVE, and the tenant's first admin user is created and invited."""
        tenant = self._pending(cause)
        if tenant is None:
            return None
        active = tenant.provisioned(self._clock.now())
        if active is None:
            self._repository.mark_processed(cause.tenant_id, cause.event_id)
            return None
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
        events = []
        admin = None
        if invitation is not None:
            admin = TenantUser(
                tenant_id=tenant.id,
                username=invitation.username,
                email=tenant.admin_email,
                role=UserRole.TENANT_ADMIN,
                created_at=self._clock.now(),
            )
            created = TenantUserCreated(
                tenant_id=tenant.id,
                username=admin.username,
                email=admin.email,
                role=admin.role.value,
            )
            events.append(
                outbox_event(
                    active,
                    created,
                    correlation_id=cause.correlation_id,
                    causation_id=cause.event_id,
                )
            )
        self._repository.save(active, events, processed_event_id=cause.event_id, new_user=admin)
        if invitation is not None:
            self._invitations.send(invitation)
        return active

    def provisioning_failed(self, cause: Cause, reason: str) -> Tenant | None:
        tenant = self._pending(cause)
        if tenant is None:
            return None
        return self._apply(cause, tenant.provisioning_failed(reason, self._clock.now()))

    def deprovisioned(self, cause: Cause) -> Tenant | None:
        tenant = self._pending(cause)
        if tenant is None:
            return None
        return self._apply(cause, tenant.deprovisioned(self._clock.now()))

    def _pending(self, cause: Cause) -> Tenant | None:
        """The tenant, or None when this event was already processed."""
        if self._repository.was_processed(cause.tenant_id, cause.event_id):
            return None
        tenant = self._repository.get(cause.tenant_id)
        if tenant is None:
            raise TenantNotFound(cause.tenant_id)
        return tenant

    def _apply(self, cause: Cause, changed: Tenant | None) -> Tenant | None:
        if changed is None:
            self._repository.mark_processed(cause.tenant_id, cause.event_id)
            return None
        self._repository.save(changed, [], processed_event_id=cause.event_id)
        return changed
