"""Users inside one tenant. The identity provider (Cognito) holds their credentials."""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class Invitation:
    """What the identity provider tells a new user: where to log in and with what."""

    to: str
    username: str
    temporary_password: str
    tenant_id: str
