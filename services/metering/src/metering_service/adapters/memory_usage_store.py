"""The usage store in memory: tests and BACKEND=memory."""

from __future__ import annotations

import threading
from datetime import date, timedelta

from metering_service.domain.usage import DayUsage, Measures, Tally


class MemoryUsageStore:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict[str, Measures]] = {}
        self.deliveries: set[str] = set()
        self._lock = threading.Lock()

    def add(self, delivery_id: str, counted: Tally) -> bool:
        with self._lock:
            if delivery_id in self.deliveries:
                return False
            self.deliveries.add(delivery_id)
            for key, by_service in counted.periods.items():
                stored = self.items.setdefault(key, {})
                for service, measures in by_service.items():
                    summed = stored.setdefault(service, {})
                    for measure, value in measures.items():
                        summed[measure] = summed.get(measure, 0.0) + value
            return True

    def tenants(self, first: date, last: date) -> dict[str, list[DayUsage]]:
        found: dict[str, list[DayUsage]] = {}
        for (tenant, period), by_service in sorted(self.items.items()):
            if period.startswith("DAY#"):
                day = date.fromisoformat(period.removeprefix("DAY#"))
                if first <= day <= last:
                    found.setdefault(tenant, []).append(DayUsage(day, by_service))
        return found

    def days(self, tenant_id: str, first: date, last: date) -> list[DayUsage]:
        found = []
        day = first
        while day <= last:
            stored = self.items.get((tenant_id, f"DAY#{day.isoformat()}"), {})
            found.append(DayUsage(day, {s: dict(m) for s, m in stored.items()}))
            day += timedelta(days=1)
        return found
