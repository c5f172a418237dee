"""The identity provider (Cognito): creates users who can log in and belong to one tenant."""

from __future__ import annotations

from typing import Protocol

from tenant_service.domain.users import Invitation, UserRole


class IdentityProvider(Protocol):
    def create_user(self, *, tenant_id: str, email: str, role: UserRole) -> Invitation:
        """Create the user with a temporary password (first login must set a new one), put it in
        the role's group and return what the invitation must say. UserAlreadyExists when the
        email is taken."""
        ...

    def reinvite(self, *, tenant_id: str, email: str, role: UserRole) -> Invitation | None:
        """For a user of this tenant who never logged in (an earlier attempt created it but did
        not finish): a fresh temporary password and invitation, in the role's group. None for
        anyone else (another tenant's user, or one who has logged in)."""
        ...

    def subject(self, tenant_id: str, username: str) -> str | None:
        """The user's stable id (Cognito's `sub`, the `user_id` of its tokens); None when the
        user does not exist. UserNotFound when it is another tenant's."""
        ...

    def disable(self, tenant_id: str, username: str) -> None:
        """Refuse the user's logins and revoke its refresh tokens (no new tokens are issued).
        A user who no longer exists is nothing to do; another tenant's user is UserNotFound,
        left as it is (the pool is shared: this check is what keeps tenants apart there)."""
        ...

    def enable(self, tenant_id: str, username: str) -> None:
        """Let the user log in again. A user who no longer exists is nothing to do; another
        tenant's user is UserNotFound, left as it is."""
        ...

    def delete(self, tenant_id: str, username: str) -> None:
        """Revoke the user's refresh tokens and delete it. A user who no longer exists is
        nothing to do (a retry after a partial removal); another tenant's user is UserNotFound,
        left as it is."""
        ...


class InvitationSender(Protocol):
    def send(self, invitation: Invitation) -> None: ...
