"""Domain errors are types; entrypoints map them to HTTP status codes in one place."""

from __future__ import annotations


class OrderError(Exception):
    """Base of every order-service domain error. The message names the problem."""


class InvalidOrder(OrderError):
    """An order that breaks a rule of its own (no lines, too many lines, quantity below 1)."""


class IdempotencyKeyReused(OrderError):
    def __init__(self, order_id: str) -> None:
        super().__init__(f"this Idempotency-Key already placed order {order_id} with other lines")


class OrderNotFound(OrderError):
    def __init__(self, order_id: str) -> None:
        self.order_id = order_id
        super().__init__(f"order {order_id} not found")


class OrderNotCancellable(OrderError):
    def __init__(self, order_id: str, status: str) -> None:
        super().__init__(f"order {order_id} is {status} and cannot be cancelled")


class InvalidPageToken(OrderError):
    """next_token is not one this service issued for this tenant."""


class EventAlreadyProcessed(OrderError):
    """The processed-event marker exists: the effect of this event is already committed."""


class ConcurrentUpdate(OrderError):
    """Another writer changed the order since it was read; read it again and retry."""


class OutsideTheTenant(OrderError):
    """The credentials scoped to the caller's tenant were refused a key: one of another tenant
    (a bug planted somewhere, never a caller's right). To the caller, that item does not exist.
    `refusal` is AWS's AccessDenied message (principal, action, resource), for the log."""

    def __init__(self, refusal: str) -> None:
        super().__init__(f"refused outside the tenant's own keys: {refusal}")
        self.refusal = refusal
