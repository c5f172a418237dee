"""What each invocation used, per tenant, added to the one EMF record the function already
flushes (no extra request, no I/O): the usage record the metering service aggregates.

A `Meter` lives in a contextvar for one invocation (`metered` wraps the handler, inside
Powertools' `log_metrics`). Adapters feed it without knowing it: `meter_session` hooks a botocore
session so that DynamoDB calls ask for `ReturnConsumedCapacity=TOTAL` and add what they consumed,
and EventBridge `PutEvents` adds each entry put to the tenant of its envelope; the Fauna adapters
pass the driver's query stats to `add_fauna_stats`. `enrich_metrics` names the tenant the usage
goes to from then on; what no tenant can be named for goes to `SHARED` (`_shared`), so the
unattributable part is visible, not hidden.

The record (EMF, namespace from the template): metrics summed over the invocation (`Requests`,
`Errors4xx`, `Errors5xx`, `Latency` with the dimensions service, tier and route for an API;
`ReadCapacityUnits`, `WriteCapacityUnits`, `BilledDurationMs`, `EventsPublished`, `Fauna*Ops`
for every function), and as properties `usage_version` (what the subscription filter matches),
`memory_mb` and `usage`: {tenant_id: {measure: value}}. Tenant stays a property, never a
dimension: a dimension per tenant is a custom metric per tenant (README, "Usage and cost")."""

from __future__ import annotations

import functools
import importlib
import json
import math
import time
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from typing import Any, Protocol, TypeVar

SHARED = "_shared"
USAGE_VERSION = 1
# The subscription filter pattern that keeps the usage records (the metering template's).
USAGE_FILTER_PATTERN = "{ $.usage_version = 1 }"

# The measures of a usage record, named as the usage API answers them.
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

# measure -> (EMF metric name, unit) for the measures summed into CloudWatch metrics.
_METRICS = {
    "read_capacity_units": ("ReadCapacityUnits", "Count"),
    "write_capacity_units": ("WriteCapacityUnits", "Count"),
    "events_published": ("EventsPublished", "Count"),
    "fauna_compute_ops": ("FaunaComputeOps", "Count"),
    "fauna_read_ops": ("FaunaReadOps", "Count"),
    "fauna_write_ops": ("FaunaWriteOps", "Count"),
}

# DynamoDB operations that accept ReturnConsumedCapacity, and which capacity each consumes.
_READS = frozenset({"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"})
_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})


class AcceptsMetrics(Protocol):
    """Powertools' Metrics, duck-typed (this package imports no Powertools)."""

    def add_metric(self, name: str, unit: Any, value: float) -> None: ...

    def add_dimension(self, name: str, value: str) -> None: ...

    def add_metadata(self, key: str, value: Any) -> None: ...


class Meter:
    """One invocation's usage: {tenant: {measure: value}}, and the tenant it goes to now."""

    __slots__ = ("tenant", "tenants_served", "usage")

    def __init__(self) -> None:
        self.tenant = SHARED
        self.usage: dict[str, dict[str, float]] = {}
        self.tenants_served: dict[str, None] = {}  # in order, for the duration's split

    def add(self, measure: str, value: float, tenant: str | None = None) -> None:
        measures = self.usage.setdefault(tenant or self.tenant, {})
        measures[measure] = measures.get(measure, 0.0) + value

    def serve(self, tenant_id: str) -> None:
        self.tenant = tenant_id
        self.tenants_served[tenant_id] = None

    def totals(self) -> dict[str, float]:
        summed: dict[str, float] = {}
        for measures in self.usage.values():
            for measure, value in measures.items():
                summed[measure] = summed.get(measure, 0.0) + value
        return summed


_meter: ContextVar[Meter | None] = ContextVar("saas_meter", default=None)


def current_meter() -> Meter | None:
    return _meter.get()


def serve_tenant(tenant_id: str) -> None:
    """Usage from now on in this invocation is the tenant's (`enrich_metrics` calls it)."""
    meter = _meter.get()
    if meter is not None:
        meter.serve(tenant_id)


def add_usage(measure: str, value: float, tenant_id: str | None = None) -> None:
    meter = _meter.get()
    if meter is not None:
        meter.add(measure, value, tenant_id)


def add_fauna_stats(stats: Any) -> None:
    """The Fauna driver's `QueryStats` (compute_ops, read_ops, write_ops) of one query."""
    meter = _meter.get()
    if meter is None or stats is None:
        return
    meter.add("fauna_compute_ops", float(getattr(stats, "compute_ops", 0) or 0))
    meter.add("fauna_read_ops", float(getattr(stats, "read_ops", 0) or 0))
    meter.add("fauna_write_ops", float(getattr(stats, "write_ops", 0) or 0))


# --- botocore hooks ------------------------------------------------------------------------


def _ask_for_capacity(params: dict[str, Any], model: Any, **_: Any) -> None:
    if model.name in _READS or model.name in _WRITES:
        params.setdefault("ReturnConsumedCapacity", "TOTAL")


def _add_consumed_capacity(parsed: Mapping[str, Any], model: Any, **_: Any) -> None:
    meter = _meter.get()
    consumed = parsed.get("ConsumedCapacity") if meter is not None else None
    if meter is None or not consumed:
        return
    for entry in [consumed] if isinstance(consumed, Mapping) else consumed:
        reads = entry.get("ReadCapacityUnits")
        writes = entry.get("WriteCapacityUnits")
        if reads is None and writes is None:  # TOTAL: the operation says which it was
            units = float(entry.get("CapacityUnits") or 0.0)
            reads, writes = (units, 0.0) if model.name in _READS else (0.0, units)
        if reads:
            meter.add("read_capacity_units", float(reads))
        if writes:
            meter.add("write_capacity_units", float(writes))


def _note_entry_tenants(params: Mapping[str, Any], context: dict[str, Any], **_: Any) -> None:
    tenants = []
    for entry in params.get("Entries") or ():
        try:
            tenant = json.loads(entry.get("Detail") or "{}")["metadata"]["tenant_id"]
        except (ValueError, KeyError, TypeError):
            tenant = None
        tenants.append(tenant if isinstance(tenant, str) and tenant else SHARED)
    context["saas_entry_tenants"] = tenants


def _add_events_published(parsed: Mapping[str, Any], context: Mapping[str, Any], **_: Any) -> None:
    meter = _meter.get()
    if meter is None:
        return
    tenants = context.get("saas_entry_tenants") or []
    for tenant, result in zip(tenants, parsed.get("Entries") or (), strict=False):
        if result.get("EventId"):
            meter.add("events_published", 1.0, tenant)


SessionT = TypeVar("SessionT")


def meter_session(session: SessionT) -> SessionT:
    """Hook a botocore session (or one client's `meta.events`) into the meter: every DynamoDB
    client it builds asks for its consumed capacity and adds it, every EventBridge client
    counts the entries it put."""
    register = session.register  # type: ignore[attr-defined]
    register("provide-client-params.dynamodb", _ask_for_capacity, unique_id="saas-meter-ask")
    register("after-call.dynamodb", _add_consumed_capacity, unique_id="saas-meter-capacity")
    register(
        "provide-client-params.events.PutEvents", _note_entry_tenants, unique_id="saas-meter-put"
    )
    register("after-call.events.PutEvents", _add_events_published, unique_id="saas-meter-ids")
    return session


# --- the handler wrapper ---------------------------------------------------------------------

Handler = TypeVar("Handler", bound=Callable[..., Any])


def route_group(resource: str) -> str:
    """The first segment of the API's resource path ("/orders/{order_id}" -> "orders")."""
    return resource.strip("/").split("/", 1)[0] or "root"


def _units() -> dict[str, Any]:
    """Powertools' MetricUnit members when it is there: its add_metric checks a unit given as
    text against every member (some 4 us a metric); a member passes at once."""
    try:
        unit = importlib.import_module("aws_lambda_powertools.metrics").MetricUnit
    except ImportError:
        return {}
    return {name: unit(name) for name in ("Count", "Milliseconds", "Seconds")}


_UNITS: dict[str, Any] = {}


def metered(metrics: AcceptsMetrics, *, api: bool = False) -> Callable[[Handler], Handler]:
    """Meter each invocation of the handler and add its usage to the metrics' record. Place it
    under `@metrics.log_metrics` (that decorator flushes the record when the handler returns).
    `api`: an API Gateway REST proxy function (requests, errors, latency by route)."""
    if not _UNITS:
        _UNITS.update(_units())

    def wrap(handler: Handler) -> Handler:
        @functools.wraps(handler)
        def run(event: Any, context: Any) -> Any:
            meter = Meter()
            if api:  # the caller's tenant from the start (a SystemAdmin may carry none)
                authorizer = ((event or {}).get("requestContext") or {}).get("authorizer") or {}
                tenant = authorizer.get("tenant_id")
                if isinstance(tenant, str) and tenant:
                    meter.serve(tenant)
            token = _meter.set(meter)
            started = time.perf_counter()
            status = 500
            try:
                result = handler(event, context)
                if api and isinstance(result, Mapping):
                    status = int(result.get("statusCode") or 200)
                return result
            finally:
                elapsed_ms = (time.perf_counter() - started) * 1000.0
                _meter.reset(token)
                memory_mb = int(getattr(context, "memory_limit_in_mb", 0) or 0)
                if api:
                    _api_usage(metrics, meter, event, status, elapsed_ms)
                emit(metrics, meter, elapsed_ms, memory_mb)

        return run  # type: ignore[return-value]

    return wrap


def _api_usage(
    metrics: AcceptsMetrics, meter: Meter, event: Any, status: int, elapsed_ms: float
) -> None:
    authorizer = ((event or {}).get("requestContext") or {}).get("authorizer") or {}
    errors_4xx = 1.0 if 400 <= status < 500 else 0.0
    errors_5xx = 1.0 if status >= 500 else 0.0
    meter.add("requests", 1.0)
    if errors_4xx:
        meter.add("errors_4xx", 1.0)
    if errors_5xx:
        meter.add("errors_5xx", 1.0)
    metrics.add_dimension("tier", str(authorizer.get("tier") or "none"))
    metrics.add_dimension("route", route_group(str((event or {}).get("resource") or "")))
    count = _UNITS.get("Count", "Count")
    metrics.add_metric("Requests", count, 1.0)
    metrics.add_metric("Errors4xx", count, errors_4xx)
    metrics.add_metric("Errors5xx", count, errors_5xx)
    metrics.add_metric("Latency", _UNITS.get("Milliseconds", "Milliseconds"), elapsed_ms)


def emit(metrics: AcceptsMetrics, meter: Meter, elapsed_ms: float, memory_mb: int) -> None:
    """Add the invocation's usage to the record: the duration (rounded up to 1 ms, as Lambda
    bills) split evenly over the tenants served, `_shared` when none was."""
    billed_ms = float(max(1, math.ceil(elapsed_ms)))
    served = list(meter.tenants_served) or [SHARED]
    share = 1.0 / len(served)
    gb_seconds = billed_ms / 1000.0 * memory_mb / 1024.0
    for tenant in served:
        meter.add("lambda_invocations", share, tenant)
        meter.add("lambda_billed_ms", billed_ms * share, tenant)
        meter.add("lambda_gb_seconds", gb_seconds * share, tenant)
    totals = meter.totals()
    metrics.add_metric("BilledDurationMs", _UNITS.get("Milliseconds", "Milliseconds"), billed_ms)
    for measure, (name, unit) in _METRICS.items():
        value = totals.get(measure)
        if value:
            metrics.add_metric(name, _UNITS.get(unit, unit), value)
    metrics.add_metadata("usage_version", USAGE_VERSION)
    metrics.add_metadata("memory_mb", memory_mb)
    metrics.add_metadata("usage", meter.usage)
