"""In-memory IdentityProvider for unit tests and `BACKEND=memory`."""

from __future__ import annotations

from tenant_service.domain.errors import UserAlreadyExists, UserNotFound
from tenant_service.domain.users import Invitation, UserRole


class MemoryIdentityProvider:
    def __init__(self) -> None:
        self.users: dict[str, tuple[str, str, UserRole]] = {}  # email -> (username, tenant, role)
        self.logged_in: set[str] = set()  # emails of users who have set their own password
        self.disabled: set[str] = set()  # usernames whose logins are refused
        self.signed_out: list[str] = []  # usernames whose refresh tokens were revoked, in order

    def create_user(self, *, tenant_id: str, email: str, role: UserRole) -> Invitation:
        if email in self.users:
            raise UserAlreadyExists(email)
        username = f"user-{len(self.users) + 1}"
        self.users[email] = (username, tenant_id, role)
        return Invitation(
            to=email, username=username, temporary_password="Temp-Passw0rd!", tenant_id=tenant_id
        )

    def reinvite(self, *, tenant_id: str, email: str, role: UserRole) -> Invitation | None:
        known = self.users.get(email)
        if known is None or known[1] != tenant_id or email in self.logged_in:
            return None
        self.users[email] = (known[0], tenant_id, role)
        return Invitation(
            to=email, username=known[0], temporary_password="Again-Passw0rd!", tenant_id=tenant_id
        )

    def _email(self, tenant_id: str, username: str) -> str | None:
        """The user's email if it exists; UserNotFound when it is another tenant's (as the
        Cognito adapter checks `custom:tenant_id` before acting)."""
        found = next(((e, t) for e, (u, t, _) in self.users.items() if u == username), None)
        if found is None:
            return None
        if found[1] != tenant_id:
            raise UserNotFound(username)
        return found[0]

    def subject(self, tenant_id: str, username: str) -> str | None:
        return f"sub-{username}" if self._email(tenant_id, username) is not None else None

    def disable(self, tenant_id: str, username: str) -> None:
        if self._email(tenant_id, username) is not None:
            self.disabled.add(username)
            self.signed_out.append(username)

    def enable(self, tenant_id: str, username: str) -> None:
        if self._email(tenant_id, username) is not None:
            self.disabled.discard(username)

    def delete(self, tenant_id: str, username: str) -> None:
        email = self._email(tenant_id, username)
        if email is not None:
            self.signed_out.append(username)
            del self.users[email]
            self.disabled.discard(username)
            self.logged_in.discard(email)
