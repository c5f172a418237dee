"""Use cases on a tenant's users: a TenantAdmin creates, lists, disables, enables and removes
the users of its own tenant and re-sends an invitation. Another tenant's user is not found."""

from __future__ import annotations

from tenant_context import Cause, Principal, Role
from tenant_service.app.tenants import Forbidden, tenant_context
from tenant_service.domain.errors import (
    TenantNotFound,
    TransitionNotAllowed,
    UserActionNotAllowed,
    UserAlreadyExists,
    UserNotFound,
)
from tenant_service.domain.events import (
    TenantUserCreated,
    TenantUserDisabled,
    TenantUserEnabled,
    TenantUserRemoved,
)
from tenant_service.domain.tenant import Tenant, TenantStatus
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

    def disable(self, caller: Principal, username: str) -> TenantUser:
        """Its logins are refused and its refresh tokens revoked; TenantUserDisabled tells
        whoever caches a decision per user. Disabling a disabled user answers it as it is."""
        tenant, user = self._user(caller, username)
        self._not_oneself(caller, user, "disable")
        self._identity.disable(tenant.id, user.username)
        if not user.enabled:
            return user
        changed = user.with_enabled(False)
        with self._uow(tenant_context(tenant), Cause()) as uow:
            uow.users.save(changed)
            uow.emit(TenantUserDisabled(tenant_id=tenant.id, username=user.username))
            uow.commit()
        return changed

    def enable(self, caller: Principal, username: str) -> TenantUser:
        tenant, user = self._user(caller, username)
        self._identity.enable(tenant.id, user.username)
        if user.enabled:
            return user
        changed = user.with_enabled(True)
        with self._uow(tenant_context(tenant), Cause()) as uow:
            uow.users.save(changed)
            uow.emit(TenantUserEnabled(tenant_id=tenant.id, username=user.username))
            uow.commit()
        return changed

    def remove(self, caller: Principal, username: str) -> None:
        """The identity first: a retry after a failure in between finds the record and
        finishes (deleting an identity already gone is nothing to do)."""
        tenant, user = self._user(caller, username)
        self._not_oneself(caller, user, "remove")
        self._identity.delete(tenant.id, user.username)
        with self._uow(tenant_context(tenant), Cause()) as uow:
            uow.users.remove(user)
            uow.emit(TenantUserRemoved(tenant_id=tenant.id, username=user.username))
            uow.commit()

    def resend_invitation(self, caller: Principal, username: str) -> TenantUser:
        """A new temporary password, sent as the first invitation was; only for a user who has
        not signed in yet (the old temporary password stops working)."""
        tenant, user = self._user(caller, username)
        if not user.enabled:
            raise UserActionNotAllowed(user.username, "is disabled: enable it first")
        invitation = self._identity.reinvite(tenant_id=tenant.id, email=user.email, role=user.role)
        if invitation is None:
            raise UserActionNotAllowed(
                user.username, "has already signed in: there is no invitation to re-send"
            )
        self._invitations.send(invitation)
        return user

    def _user(self, caller: Principal, username: str) -> tuple[Tenant, TenantUser]:
        tenant_id = _own_tenant(caller)
        tenant = self._repository.get(tenant_id)
        if tenant is None:
            raise TenantNotFound(tenant_id)
        user = self._repository.user(tenant_id, username)
        if user is None:
            raise UserNotFound(username)
        return tenant, user

    def _not_oneself(self, caller: Principal, user: TenantUser, action: str) -> None:
        if caller.user_id in (user.username, self._identity.subject(user.tenant_id, user.username)):
            raise UserActionNotAllowed(
                user.username,
                f"an admin cannot {action} itself: ask another TenantAdmin of the tenant",
            )
