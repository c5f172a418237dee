"""SQS consumer of the events this service reacts to, from the queue
`saas-metering-events`.

One table from detail-type to handler (EVENT_HANDLERS), as a message bus has. A record that
cannot be handled (no handler, unknown major, invalid envelope or data) fails with its reason
logged: SQS retries it, then moves it to the DLQ. An event handled before is skipped."""

from __future__ import annotations

import gc

# No cyclic collection while init imports and builds; what it builds is frozen at the end.
gc.disable()

import json
from collections.abc import Callable, Mapping
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ValidationError

from metering_service.container import container
from metering_service.domain.errors import EventAlreadyProcessed
from metering_service.entrypoints.event_readers import CONSUMED, TenantDeprovisionedReader
from metering_service.entrypoints.observability import logger, metrics, tracer
from tenant_context import (
    Cause,
    InvalidEnvelope,
    InvalidTenantContext,
    TenantContext,
    enrich_logger,
    enrich_metrics,
    read_envelope,
)

EventHandler = Callable[[BaseModel, TenantContext, Cause], None]


class UnprocessableMessage(Exception):
    """The message can never be handled as it is: its reason goes to the log, it to the DLQ."""


def _tenant_deprovisioned(data: BaseModel, tenant: TenantContext, cause: Cause) -> None:
    if not isinstance(data, TenantDeprovisionedReader) or data.tenant_id != tenant.tenant_id:
        raise UnprocessableMessage("TenantDeprovisioned: data.tenant_id is not the envelope's")
    deleted = container().meterings.purge_tenant(tenant, cause)
    logger.info("tenant data purged", items=deleted)
    metrics.add_metric(name="TenantsPurged", unit=MetricUnit.Count, value=1)


EVENT_HANDLERS: Mapping[str, EventHandler] = {
    "TenantDeprovisioned": _tenant_deprovisioned,
}


def _parse(record: SQSRecord) -> tuple[str, TenantContext, Cause, BaseModel]:
    try:
        event = json.loads(record.body)
    except json.JSONDecodeError as exc:
        raise UnprocessableMessage(f"body is not JSON: {exc.msg}") from None
    if not isinstance(event, dict):
        raise UnprocessableMessage("body is not an EventBridge event")
    source, detail_type = str(event.get("source")), str(event.get("detail-type"))
    reader = CONSUMED.get((source, detail_type))
    if reader is None or detail_type not in EVENT_HANDLERS:
        raise UnprocessableMessage(f"no handler for {source} {detail_type}")
    try:
        envelope = read_envelope(event.get("detail") or {})
        tenant = TenantContext.from_envelope(envelope.metadata)
    except (InvalidEnvelope, InvalidTenantContext) as exc:
        raise UnprocessableMessage(f"{detail_type}: {exc}") from None
    accepted = getattr(reader, "event_version", 1)
    if envelope.metadata.event_version != accepted:
        raise UnprocessableMessage(
            f"{detail_type} event_version {envelope.metadata.event_version} is not supported "
            f"(this consumer reads major {accepted})"
        )
    try:
        data = reader.model_validate(envelope.data)
    except ValidationError as exc:
        raise UnprocessableMessage(f"{detail_type} data is invalid: {exc.errors()}") from None
    metadata = envelope.metadata
    cause = Cause(correlation_id=metadata.correlation_id, event_id=metadata.event_id)
    return detail_type, tenant, cause, data


def record_handler(record: SQSRecord) -> None:
    logger.remove_keys(["tenant_id", "correlation_id"])  # the previous record's, if any
    try:
        detail_type, tenant, cause, data = _parse(record)
        enrich_logger(logger, tenant_id=tenant.tenant_id, correlation_id=cause.correlation_id)
        enrich_metrics(metrics, tenant_id=tenant.tenant_id)
        EVENT_HANDLERS[detail_type](data, tenant, cause)
    except UnprocessableMessage as exc:
        logger.error("message left for the DLQ", reason=str(exc), message_id=record.message_id)
        raise
    except EventAlreadyProcessed:
        logger.info("event handled before: skipped", event_id=cause.event_id)


processor = BatchProcessor(event_type=EventType.SQS)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )


# Init is done: its objects live as long as the environment, so collections skip them.
gc.freeze()
gc.enable()
