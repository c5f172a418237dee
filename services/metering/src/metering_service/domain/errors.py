"""The domain's errors, as types: the API maps each to its HTTP status in one place."""

from __future__ import annotations


class MeteringError(Exception):
    """Every error of the metering service's domain."""


class MeteringNotFound(MeteringError):
    def __init__(self, item_id: str) -> None:
        super().__init__(f"nothing by the id {item_id} in this tenant")


class InvalidMetering(MeteringError):
    """A value breaks one of the metering's rules; the message says which."""


class ConcurrentUpdate(MeteringError):
    """The metering changed since it was read: read it again and retry."""


class EventAlreadyProcessed(MeteringError):
    """The event's processed marker exists: it was handled before, nothing is written again."""
