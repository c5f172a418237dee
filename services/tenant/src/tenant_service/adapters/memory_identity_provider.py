"""In-memory IdentityProvider for unit tests and `BACKEND=memory`."""

from __future__ import annotations

from tenant_service.domain.errors import UserAlreadyExists
from tenant_service.domain.users import Invitation, UserRole


class MemoryIdentityProvider:
    def __init__(self) -> None:
        self.users: dict[str, tuple[str, str, UserRole]] = {}  # email -> (username, tenant, role)
        self.logged_in: set[str] = set()  # emails of users who have set their own password

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
