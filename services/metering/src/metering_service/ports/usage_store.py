"""Where usage is added up: per tenant per hour and day, per service."""

from __future__ import annotations

from datetime import date
from typing import Protocol

from metering_service.domain.usage import DayUsage, Tally


class UsageStore(Protocol):
    def add(self, delivery_id: str, counted: Tally) -> bool:
        """Add a delivery's tally, all or nothing, once: False (nothing added) when the
        delivery was counted before."""
        ...

    def days(self, tenant_id: str, first: date, last: date) -> list[DayUsage]:
        """The tenant's usage of each day from first to last, a day with none empty."""
        ...

    def tenants(self, first: date, last: date) -> dict[str, list[DayUsage]]:
        """Every tenant with usage from first to last: its days with usage."""
        ...
