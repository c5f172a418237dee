"""Domain errors: types, mapped to HTTP status codes in one place (entrypoints/api.py)."""

from __future__ import annotations


class TenantError(Exception):
    """Base of every error the tenant domain raises on purpose."""


class TenantNotFound(TenantError):
    def __init__(self, tenant_id: str) -> None:
        super().__init__(f"tenant {tenant_id!r} not found")
        self.tenant_id = tenant_id


class RequestKeyReused(TenantError):
    """An Idempotency-Key that already registered a tenant, sent with another request (422)."""

    def __init__(self, tenant_id: str) -> None:
        super().__init__(
            f"this Idempotency-Key already registered tenant {tenant_id!r} with another body"
        )
        self.tenant_id = tenant_id


class TransitionNotAllowed(TenantError):
    """The lifecycle does not allow this change from the tenant's current status (409)."""

    def __init__(self, tenant_id: str, current: str, action: str) -> None:
        super().__init__(f"tenant {tenant_id!r} is {current}: cannot {action}")
        self.tenant_id = tenant_id
        self.current = current
        self.action = action


class ConcurrentModification(TenantError):
    """Someone else changed the tenant between our read and our write (409)."""

    def __init__(self, tenant_id: str) -> None:
        super().__init__(f"tenant {tenant_id!r} was changed concurrently; retry")
        self.tenant_id = tenant_id


class UserAlreadyExists(TenantError):
    def __init__(self, email: str) -> None:
        super().__init__(f"a user with email {email!r} already exists")
        self.email = email


class InvalidPageToken(TenantError):
    def __init__(self) -> None:
        super().__init__("next_token is not a token this API issued")


class UserNotFound(TenantError):
    """No user of this name in the caller's tenant (another tenant's user is not found either)."""

    def __init__(self, username: str) -> None:
        super().__init__(f"user {username!r} not found")
        self.username = username


class UserActionNotAllowed(TenantError):
    """The user's state does not allow this (409): an admin acting on itself, an invitation to a
    user who has already signed in, one to a disabled user."""

    def __init__(self, username: str, reason: str) -> None:
        super().__init__(f"user {username!r}: {reason}")
        self.username = username
        self.reason = reason


class OutsideTheTenant(TenantError):
    """The credentials scoped to one tenant were refused a key: one of another tenant (a bug
    somewhere, never a caller's right). To the caller, that item does not exist (404).
    `refusal` is AWS's AccessDenied message (principal, action, resource), for the log."""

    def __init__(self, refusal: str) -> None:
        super().__init__(f"refused outside the tenant's own keys: {refusal}")
        self.refusal = refusal
