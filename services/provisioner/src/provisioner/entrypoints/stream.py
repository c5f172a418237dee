"""The tenant table's stream -> the tenant's environment -> an event on the bus.

Records of one tenant are handled in stream order: once a record of a tenant fails, the later
records of that tenant in the batch fail too (without being tried), so Lambda retries them after
it, in order. Other tenants' records go on. A record that can never be handled (not a tenant)
goes to the dead-letter queue with the reason instead of blocking its shard."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from provisioner.container import container
from provisioner.domain.changes import Intent
from provisioner.domain.errors import InvalidTenantRecord, ProvisionerError

logger = Logger(service="provisioner")
tracer = Tracer(service="provisioner")
metrics = Metrics(namespace="saas", service="provisioner")
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


class EarlierChangeFailed(ProvisionerError):
    """An earlier record of the same tenant failed in this batch: this one waits its turn."""


class _TenantOrder:
    """The record handler for one batch, remembering which tenants already failed in it."""

    def __init__(self) -> None:
        self.failed: set[str] = set()

    def __call__(self, record: DynamoDBRecord) -> None:
        deps = container()
        records = deps.stream_records()
        raw = record.raw_event
        tenant_id = records.tenant_id_of(raw)
        if tenant_id in self.failed:
            raise EarlierChangeFailed(f"an earlier change of tenant {tenant_id} failed")
        try:
            change = records.change_of(raw)
        except InvalidTenantRecord as invalid:
            logger.warning("invalid tenant record", reason=str(invalid), tenant_id=tenant_id)
            deps.dead_letters().send(raw, str(invalid))
            metrics.add_metric(name="InvalidTenantRecords", unit=MetricUnit.Count, value=1)
            return
        logger.append_keys(tenant_id=change.tenant.tenant_id, change_id=change.change_id)
        try:
            outcome = deps.reconciler().handle(change)
        except Exception:
            self.failed.add(change.tenant.tenant_id)
            logger.exception("tenant change failed; it will be retried", kind=change.kind.value)
            raise
        finally:
            logger.remove_keys(["tenant_id", "change_id"])
        if outcome.intent is not Intent.NOTHING and outcome.event is not None:
            metrics.add_metric(name=outcome.event.detail_type, unit=MetricUnit.Count, value=1)
            logger.info(
                "tenant environment reconciled",
                tenant_id=outcome.event.tenant_id,
                intent=outcome.intent.value,
                event=outcome.event.detail_type,
            )


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    records = len(event.get("Records") or [])
    metrics.add_metric(name="TenantChangesReceived", unit=MetricUnit.Count, value=records)
    return process_partial_response(
        event=event, record_handler=_TenantOrder(), processor=processor, context=context
    )
