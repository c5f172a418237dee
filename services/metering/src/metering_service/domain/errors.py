"""The domain's errors, as types: the API maps each to its HTTP status in one place."""

from __future__ import annotations


class MeteringError(Exception):
    """Every error of the metering service's domain."""


class InvalidRange(MeteringError):
    """A usage range the API refuses: the message says why (400)."""


class NotYourTenant(MeteringError):
    """A TenantAdmin asked for another tenant's usage (404, as any other tenant's id)."""

    def __init__(self, tenant_id: str) -> None:
        super().__init__(f"no tenant {tenant_id} for the caller")


class UnknownTenant(MeteringError):
    """No tenant by this id (404)."""

    def __init__(self, tenant_id: str) -> None:
        super().__init__(f"no tenant {tenant_id}")


class BadUsageRecord(MeteringError):
    """A log event that is not a usage record this service reads: counted and logged."""


class OutsideTheTenant(MeteringError):
    """The credentials scoped to one tenant were refused a key: one of another tenant (a bug
    somewhere, never a caller's right). To the caller, that tenant's usage does not exist (404).
    `refusal` is AWS's AccessDenied message (principal, action, resource), for the log."""

    def __init__(self, refusal: str) -> None:
        super().__init__(f"refused outside the tenant's own keys: {refusal}")
        self.refusal = refusal
