"""In-memory IdentityProvider for unit tests and `BACKEND=memory`."""

from __future__ import annotations

from tenant_service.domain.errors import UserAlreadyExists
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

    def _email(self, username: str) -> str | None:
        return next((e for e, (u, _, _) in self.users.items() if u == username), None)

    def subject(self, username: str) -> str | None:
        return f"sub-{username}" if self._email(username) is not None else None

    def disable(self, username: str) -> None:
        if self._email(username) is not None:
            self.disabled.add(username)
            self.signed_out.append(username)

    def enable(self, username: str) -> None:
        self.disabled.discard(username)

    def delete(self, username: str) -> None:
        email = self._email(username)
        if email is not None:
            self.signed_out.append(username)
            del self.users[email]
            self.disabled.discard(username)
            self.logged_in.discard(email)
