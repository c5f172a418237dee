"""The tenant table's stream -> the tenant's environment -> an event on the bus.

A batch's tenants are handled concurrently (a stack takes minutes; ten tenants should not wait
for each other), each tenant's records one after the other in stream order. Once a record of a
tenant fails, its later records in the batch fail too without being tried, so Lambda retries
them after it, in order; other tenants go on. The outcomes are then reported through Powertools'
BatchProcessor (partial batch failures). A record that can never be handled (not a tenant) goes
to the dead-letter queue with the reason instead of blocking its shard."""

from __future__ import annotations

import gc

# No cyclic collection while init imports and builds (about 25 ms of cold start); what it
# builds is frozen and collecting resumes at the end of this module.
gc.disable()

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from provisioner.app.reconcile import Outcome
from provisioner.container import container
from provisioner.domain.errors import InvalidTenantRecord, ProvisionerError
from provisioner.entrypoints.observability import logger, metrics, tracer
from tenant_context.metering import metered

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)

Result = Outcome | InvalidTenantRecord | Exception


class EarlierChangeFailed(ProvisionerError):
    """An earlier record of the same tenant failed in this batch: this one waits its turn."""


def _sequence_number(raw: Mapping[str, Any]) -> str:
    return str((raw.get("dynamodb") or {}).get("SequenceNumber", ""))


def _handle_in_order(records: Sequence[Mapping[str, Any]]) -> dict[str, Result]:
    """One tenant's records, in stream order; after a failure the rest are not tried."""
    deps = container()
    stream_records = deps.stream_records
    results: dict[str, Result] = {}
    failed: str | None = None
    for raw in records:
        sequence = _sequence_number(raw)
        tenant_id = stream_records.tenant_id_of(raw)
        if failed is not None:
            results[sequence] = EarlierChangeFailed(
                f"record {failed} of tenant {tenant_id} failed earlier in this batch"
            )
            continue
        try:
            change = stream_records.change_of(raw)
        except InvalidTenantRecord as invalid:
            logger.warning("invalid tenant record", reason=str(invalid), tenant_id=tenant_id)
            deps.dead_letters.send(raw, str(invalid))
            results[sequence] = invalid
            continue
        try:
            results[sequence] = deps.reconciler.handle(change)
        except Exception as exc:
            failed = sequence
            logger.exception(
                "tenant change failed; it will be retried",
                tenant_id=tenant_id,
                kind=change.kind.value,
                sequence_number=sequence,
            )
            results[sequence] = exc
    return results


def _by_tenant(records: Sequence[Mapping[str, Any]]) -> list[list[Mapping[str, Any]]]:
    stream_records = container().stream_records
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for raw in records:
        key = stream_records.tenant_id_of(raw) or f"unkeyed:{_sequence_number(raw)}"
        groups.setdefault(key, []).append(raw)
    return list(groups.values())


def _reconcile_batch(records: Sequence[Mapping[str, Any]]) -> dict[str, Result]:
    groups = _by_tenant(records)
    if not groups:
        return {}
    deps = container()
    # Built here, once, before the threads (cached_property locks only on Python 3.11).
    deps.reconciler  # noqa: B018
    deps.dead_letters  # noqa: B018
    workers = min(len(groups), deps.settings.tenant_concurrency)
    results: dict[str, Result] = {}
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tenant") as pool:
        for group_results in pool.map(_handle_in_order, groups):
            results.update(group_results)
    return results


class _Report:
    """The record handler BatchProcessor calls: it reports each record's outcome."""

    def __init__(self, results: Mapping[str, Result]) -> None:
        self._results = results

    def __call__(self, record: DynamoDBRecord) -> None:
        result = self._results[_sequence_number(record.raw_event)]
        if isinstance(result, InvalidTenantRecord):
            metrics.add_metric(name="InvalidTenantRecords", unit=MetricUnit.Count, value=1)
            return  # dead-lettered with its reason: done with it
        if isinstance(result, Exception):
            raise result
        if result.event is not None:
            metrics.add_metric(name=result.event.detail_type, unit=MetricUnit.Count, value=1)
            logger.info(
                "tenant environment reconciled",
                tenant_id=result.event.tenant_id,
                intent=result.intent.value,
                event=result.event.detail_type,
            )


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@metered(metrics)
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    records = event.get("Records") or []
    metrics.add_metric(name="TenantChangesReceived", unit=MetricUnit.Count, value=len(records))
    results = _reconcile_batch(records)
    return process_partial_response(
        event=event, record_handler=_Report(results), processor=processor, context=context
    )


# Init is done: its objects live as long as the environment, so collections skip them.
gc.freeze()
gc.enable()
