"""Use cases on a tenant's users: a TenantAdmin creates and lists the users of its own tenant."""

from __future__ import annotations

from tenant_context import Cause, Principal, Role
from tenant_service.app.tenants import Forbidden, tenant_context
from tenant_service.domain.errors import TenantNotFound, TransitionNotAllowed, UserAlreadyExists
from tenant_service.domain.events import TenantUserCreated
from tenant_service.domain.tenant import TenantStatus
from tenant_service.domain.users import TenantUser, UserRole
from tenant_service.ports.clock import Clock
from tenant_service.ports.identity_provider import IdentityProvider, InvitationSender
from tenant_service.ports.tenant_repository import Page, TenantRepository
from tenant_service.ports.unit_of_work import UnitOfWorkFactory


def _own_tenant(caller: Principal) -> str:
    # The tenant is the caller's, from the verified token: never from the request.
    if caller.role is not Role.TENANT_ADMIN or caller.tenant_id is None:
        raise Forbidden(f"{caller.role.value} may not manage users")
    return caller.tenant_id


class UserUseCases:
    def __init__(
        self,
        repository: TenantRepository,
        uow: UnitOfWorkFactory,
        identity: IdentityProvider,
        invitations: InvitationSender,
        clock: Clock,
    ) -> None:
        self._repository = repository
        self._uow = uow
        self._identity = identity
        self._invitations = invitations
        self._clock = clock

    def create(self, caller: Principal, *, email: str, role: UserRole) -> TenantUser:
        tenant_id = _own_tenant(caller)
        tenant = self._repository.get(tenant_id)
        if tenant is None:
            raise TenantNotFound(tenant_id)
        if tenant.status is not TenantStatus.ACTIVE:
            raise TransitionNotAllowed(tenant_id, tenant.status.value, "create users")
        try:
            invitation = self._identity.create_user(tenant_id=tenant_id, email=email, role=role)
        except UserAlreadyExists:
            # An earlier attempt may have created the identity and then failed before recording
            # it: that user (of this tenant, never logged in) is invited again and recorded.
            if self._repository.user_by_email(tenant_id, email) is not None:
                raise
            again = self._identity.reinvite(tenant_id=tenant_id, email=email, role=role)
            if again is None:
                raise
            invitation = again
        user = TenantUser(
            tenant_id=tenant_id,
            username=invitation.username,
            email=email,
            role=role,
            created_at=self._clock.now(),
        )
        event = TenantUserCreated(
            tenant_id=tenant_id, username=user.username, email=email, role=role.value
        )
        with self._uow(tenant_context(tenant), Cause()) as uow:
            uow.users.add(user)
            uow.emit(event)
            uow.commit()
        self._invitations.send(invitation)
        return user

    def list(self, caller: Principal, *, limit: int, next_token: str | None) -> Page[TenantUser]:
        tenant_id = _own_tenant(caller)
        return self._repository.list_users(tenant_id, limit=limit, next_token=next_token)
