"""A tenant's status, on its own: the authorizer reads it without the aggregate and its events."""

from __future__ import annotations

from enum import StrEnum


class TenantStatus(StrEnum):
    PROVISIONING = "PROVISIONING"
    ACTIVE = "ACTIVE"
    PROVISIONING_FAILED = "PROVISIONING_FAILED"
    SUSPENDED = "SUSPENDED"
    OFFBOARDING = "OFFBOARDING"
    OFFBOARDED = "OFFBOARDED"
