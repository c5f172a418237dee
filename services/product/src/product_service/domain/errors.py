"""Domain errors: each is a type, mapped to an HTTP status in one place (entrypoints/api.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from product_service.domain.model import ShortLine


class ProductError(Exception):
    """Base of every error the product domain raises on purpose."""


class ProductNotFound(ProductError):
    def __init__(self, product_id: str) -> None:
        super().__init__(f"product {product_id!r} not found")
        self.product_id = product_id


class InvalidProduct(ProductError):
    """A product's fields break a rule (negative price or stock, blank name ...)."""


class InvalidPageRequest(ProductError):
    """A `limit` out of range, or a `next_token` this service did not hand out to this tenant."""


class TooManyLines(ProductError):
    def __init__(self, count: int, maximum: int) -> None:
        super().__init__(f"{count} order lines; one reservation holds at most {maximum}")
        self.count = count
        self.maximum = maximum


class InsufficientStock(ProductError):
    """Some lines cannot be reserved; `short_lines` says which and how many are available."""

    def __init__(self, short_lines: tuple[ShortLine, ...]) -> None:
        names = ", ".join(
            f"{s.product_id} (requested {s.requested}, available {s.available})"
            for s in short_lines
        )
        super().__init__(f"insufficient stock: {names}")
        self.short_lines = short_lines


class ConcurrentChange(ProductError):
    """A conditional write lost a race; the caller re-reads and decides again."""


class EventAlreadyProcessed(ConcurrentChange):
    """The event a unit of work reacts to was processed before: its marker exists, nothing was
    written. A ConcurrentChange too: the marker is one of the commit's conditions."""

    def __init__(self, event_id: str) -> None:
        super().__init__(f"event {event_id!r} was processed before")
        self.event_id = event_id


class OutsideTheTenant(ProductError):
    """The credentials scoped to the caller's tenant were refused a key: one of another tenant
    (a bug planted somewhere, never a caller's right). To the caller, that item does not exist.
    `refusal` is AWS's AccessDenied message (principal, action, resource), for the log."""

    def __init__(self, refusal: str) -> None:
        super().__init__(f"refused outside the tenant's own keys: {refusal}")
        self.refusal = refusal
