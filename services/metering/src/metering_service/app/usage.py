"""The use cases: count a delivery of usage records, and read a tenant's usage and cost."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from metering_service.domain.cost import Cost, Prices, add_costs, cost_of
from metering_service.domain.errors import BadUsageRecord, UnknownTenant
from metering_service.domain.usage import MEASURES, SHARED, DayUsage, Tally, read_usage_record
from metering_service.ports.tenant_directory import TenantDirectory
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
class TenantTotal:
    tenant_id: str
    total: Day


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
    def __init__(self, store: UsageStore, prices: Prices, tenants: TenantDirectory) -> None:
        self._store = store
        self._prices = prices
        self._tenants = tenants

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
        """A tenant's usage (or `_shared`'s); UnknownTenant when there is no such tenant."""
        if tenant_id != SHARED and not self._tenants.exists(tenant_id):
            raise UnknownTenant(tenant_id)
        days = [self._day(d) for d in self._store.days(tenant_id, first, last)]
        total = Day(
            day=last,
            measures=_sum(d.measures for d in days),
            cost=add_costs([d.cost for d in days]),
        )
        return UsageReport(tenant_id, first, last, days, total)

    def top_tenants(self, first: date, last: date, limit: int) -> list[TenantTotal]:
        """The tenants (and `_shared`) with usage in the range, the costliest first."""
        totals = []
        for tenant, usage in self._store.tenants(first, last).items():
            days = [self._day(d) for d in usage]
            total = Day(last, _sum(d.measures for d in days), add_costs([d.cost for d in days]))
            totals.append(TenantTotal(tenant, total))
        totals.sort(key=lambda t: (-t.total.cost.total, t.tenant_id))
        return totals[:limit]

    def _day(self, usage: DayUsage) -> Day:
        return Day(usage.day, usage.totals(), cost_of(self._prices, usage.by_service))


def _sum(measures: Iterable[dict[str, float]]) -> dict[str, float]:
    summed = dict.fromkeys(MEASURES, 0.0)
    for day in measures:
        for name, value in day.items():
            summed[name] = summed.get(name, 0.0) + value
    return summed
