"""Usage records and their aggregation, pure: what one function's record says each tenant
used, and how records add up per tenant, per hour and day, per service.

A usage record is the EMF line a function flushed (tenant_context.metering): `service` (its
Powertools service dimension), `_aws.Timestamp` (epoch ms), `usage_version` 1 and `usage`
{tenant_id: {measure: value}}. The tenant `_shared` holds what no tenant can be named for."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from metering_service.domain.errors import BadUsageRecord

SHARED = "_shared"
USAGE_VERSION = 1
MEASURES = (
    "requests",
    "errors_4xx",
    "errors_5xx",
    "read_capacity_units",
    "write_capacity_units",
    "lambda_invocations",
    "lambda_billed_ms",
    "lambda_gb_seconds",
    "events_published",
    "fauna_compute_ops",
    "fauna_read_ops",
    "fauna_write_ops",
)
_TENANT = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_SERVICE = re.compile(r"^[a-z0-9-]{1,40}$")
# Far above what one invocation can use: a value past it is a broken record, not usage.
_MAX_VALUE = 1e12

Measures = dict[str, float]


@dataclass(frozen=True)
class UsageRecord:
    service: str
    at: datetime
    usage: Mapping[str, Mapping[str, float]]


def read_usage_record(message: str) -> UsageRecord:
    """One log event's message as a usage record, or BadUsageRecord saying why not."""
    try:
        record = json.loads(message)
    except ValueError:
        raise BadUsageRecord("not JSON") from None
    if not isinstance(record, dict) or record.get("usage_version") != USAGE_VERSION:
        raise BadUsageRecord("not a usage record of version 1")
    service = record.get("service")
    if not isinstance(service, str) or not _SERVICE.match(service):
        raise BadUsageRecord(f"no valid service: {service!r}")
    try:
        at = datetime.fromtimestamp(int(record["_aws"]["Timestamp"]) / 1000, UTC)
    except (KeyError, TypeError, ValueError, OverflowError, OSError):
        raise BadUsageRecord("no valid _aws.Timestamp") from None
    usage = record.get("usage")
    if not isinstance(usage, dict):
        raise BadUsageRecord("usage is not an object")
    read: dict[str, Measures] = {}
    for tenant, measures in usage.items():
        if not isinstance(tenant, str) or not _TENANT.match(tenant):
            raise BadUsageRecord(f"not a tenant id: {tenant!r}")
        if not isinstance(measures, dict):
            raise BadUsageRecord(f"usage of {tenant} is not an object")
        read[tenant] = {}
        for measure, value in measures.items():
            if measure not in MEASURES:
                raise BadUsageRecord(f"unknown measure {measure!r}")
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
                or not 0 <= value <= _MAX_VALUE
            ):
                raise BadUsageRecord(f"{measure} of {tenant} is not a usage figure: {value!r}")
            read[tenant][measure] = float(value)
    return UsageRecord(service=service, at=at, usage=read)


def hour_of(at: datetime) -> str:
    return f"HOUR#{at.astimezone(UTC):%Y-%m-%dT%H}"


def day_of(at: datetime) -> str:
    return f"DAY#{at.astimezone(UTC):%Y-%m-%d}"


@dataclass
class Tally:
    """Records added up: (tenant, period) -> {service: measures}."""

    periods: dict[tuple[str, str], dict[str, Measures]] = field(default_factory=dict)

    def add(self, record: UsageRecord) -> None:
        for tenant, measures in record.usage.items():
            for period in (hour_of(record.at), day_of(record.at)):
                by_service = self.periods.setdefault((tenant, period), {})
                summed = by_service.setdefault(record.service, {})
                for measure, value in measures.items():
                    summed[measure] = summed.get(measure, 0.0) + value

    def __bool__(self) -> bool:
        return bool(self.periods)


def tally(records: Iterable[UsageRecord]) -> Tally:
    counted = Tally()
    for record in records:
        counted.add(record)
    return counted


@dataclass(frozen=True)
class DayUsage:
    """One tenant's usage of one day, per service (empty: no usage that day)."""

    day: date
    by_service: Mapping[str, Mapping[str, float]]

    def totals(self) -> Measures:
        summed = dict.fromkeys(MEASURES, 0.0)
        for measures in self.by_service.values():
            for measure, value in measures.items():
                summed[measure] = summed.get(measure, 0.0) + value
        return summed


MAX_RANGE_DAYS = 92  # a quarter: enough for a bill, small enough for one answer


def usage_range(first: str | None, last: str | None, today: date) -> tuple[date, date]:
    """The days a usage request covers: `from` and `to` (YYYY-MM-DD, both included); without
    `to` today, without `from` the 7 days up to `to`. InvalidRange says what is wrong."""
    from datetime import timedelta

    from metering_service.domain.errors import InvalidRange

    def parse(name: str, text: str) -> date:
        try:
            if len(text) != 10:
                raise ValueError
            return date.fromisoformat(text)
        except ValueError:
            raise InvalidRange(f"{name} must be a date as YYYY-MM-DD, not {text!r}") from None

    end = parse("to", last) if last else today
    start = parse("from", first) if first else end - timedelta(days=6)
    if start > end:
        raise InvalidRange(f"from ({start}) is after to ({end})")
    days = (end - start).days + 1
    if days > MAX_RANGE_DAYS:
        raise InvalidRange(f"the range is {days} days: at most {MAX_RANGE_DAYS} are answered")
    return start, end
