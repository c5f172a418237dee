"""The use cases: count a delivery of usage records, and read a tenant's usage and cost."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from metering_service.domain.cost import Cost, Prices, add_costs, cost_of
from metering_service.domain.errors import BadUsageRecord
from metering_service.domain.usage import MEASURES, DayUsage, Tally, read_usage_record
from metering_service.ports.usage_store import UsageStore


@dataclass(frozen=True)
class LogEvent:
    id: str
    message: str


@dataclass(frozen=True)
class DeliveryReport:
    records: int
    bad: list[tuple[str, str]]  # (log event id, why)
    counted: bool  # False: the delivery was counted before, nothing added


@dataclass(frozen=True)
class Day:
    day: date
    measures: dict[str, float]
    cost: Cost


@dataclass(frozen=True)
class UsageReport:
    tenant_id: str
    first: date
    last: date
    days: list[Day]
    total: Day


def delivery_id(events: Sequence[LogEvent]) -> str:
    """The same for the same log events, whatever their order: a redelivery's id."""
    digest = hashlib.sha256("\n".join(sorted(e.id for e in events)).encode())
    return digest.hexdigest()[:40]


class Metering:
    def __init__(self, store: UsageStore, prices: Prices) -> None:
        self._store = store
        self._prices = prices

    def count(self, events: Sequence[LogEvent]) -> DeliveryReport:
        """Add a delivery's usage records; a bad one is reported, never fails the others."""
        counted = Tally()
        bad: list[tuple[str, str]] = []
        records = 0
        for event in events:
            try:
                counted.add(read_usage_record(event.message))
                records += 1
            except BadUsageRecord as exc:
                bad.append((event.id, str(exc)))
        added = self._store.add(delivery_id(events), counted) if counted else True
        return DeliveryReport(records=records, bad=bad, counted=added)

    def usage(self, tenant_id: str, first: date, last: date) -> UsageReport:
        days = [self._day(d) for d in self._store.days(tenant_id, first, last)]
        total = Day(
            day=last,
            measures=_sum(d.measures for d in days),
            cost=add_costs([d.cost for d in days]),
        )
        return UsageReport(tenant_id, first, last, days, total)

    def _day(self, usage: DayUsage) -> Day:
        return Day(usage.day, usage.totals(), cost_of(self._prices, usage.by_service))


def _sum(measures: Iterable[dict[str, float]]) -> dict[str, float]:
    summed = dict.fromkeys(MEASURES, 0.0)
    for day in measures:
        for name, value in day.items():
            summed[name] = summed.get(name, 0.0) + value
    return summed
