"""Users inside one tenant. The identity provider (Cognito) holds their credentials."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum


class UserRole(StrEnum):
    TENANT_ADMIN = "TenantAdmin"
    TENANT_USER = "TenantUser"


@dataclass(frozen=True, slots=True)
class TenantUser:
    tenant_id: str
    username: str
    email: str
    role: UserRole
    created_at: datetime
    enabled: bool = True  # False: disabled by a TenantAdmin, its logins refused

    def with_enabled(self, enabled: bool) -> TenantUser:
        return replace(self, enabled=enabled)


@dataclass(frozen=True, slots=True)
class Invitation:
    """What the identity provider tells a new user: where to log in and with what."""

    to: str
    username: str
    temporary_password: str
    tenant_id: str
