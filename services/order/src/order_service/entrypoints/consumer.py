"""SQS consumer of the events the order service reacts to (EventBridge -> SQS -> here).

Each record is one EventBridge event. A record that cannot be processed (unknown event, a
major version this reader does not know, invalid data) fails with its reason logged: SQS
redelivers it and, past the queue's maxReceiveCount, moves it to the DLQ. The batch never
crashes; Powertools reports the failed records as batch item failures."""

from __future__ import annotations

import gc

# No cyclic collection while init imports and builds (about 25 ms of cold start); what it
# builds is frozen and collecting resumes at the end of this module.
gc.disable()

import json
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ValidationError

from order_service.app.outbox import Cause
from order_service.app.reactions import changed_status
from order_service.container import container
from order_service.domain.order import OrderStatus
from order_service.entrypoints import event_readers as readers
from tenant_context import (
    InvalidEnvelope,
    InvalidTenantContext,
    TenantContext,
    enrich_logger,
    enrich_metrics,
    read_envelope,
    traced_modules,
)

logger = Logger(service="order")
tracer = Tracer(service="order", patch_modules=traced_modules())
metrics = Metrics(namespace="saas", service="order")
# A batch whose every record failed is still a report of failures, never a crash.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


class UnprocessableEvent(Exception):
    """The event can never be processed as it is: its reason goes with it to the DLQ."""


def _parse(record: SQSRecord) -> tuple[str, BaseModel, TenantContext, Cause]:
    try:
        event = json.loads(record.body)
        source, detail_type, detail = event["source"], event["detail-type"], event["detail"]
    except (ValueError, KeyError, TypeError) as exc:
        raise UnprocessableEvent(f"not an EventBridge event: {exc!r}") from None
    reader = readers.CONSUMED.get((source, detail_type))
    if reader is None:
        raise UnprocessableEvent(f"no reader for {source} {detail_type}")
    try:
        envelope = read_envelope(detail)
        context = TenantContext.from_envelope(envelope.metadata)
    except (InvalidEnvelope, InvalidTenantContext) as exc:
        raise UnprocessableEvent(f"{detail_type}: {exc}") from None
    accepted = reader.event_version  # type: ignore[attr-defined]
    if envelope.metadata.event_version != accepted:
        raise UnprocessableEvent(
            f"{detail_type} event_version {envelope.metadata.event_version} is not the major "
            f"this reader accepts ({accepted})"
        )
    try:
        data = reader.model_validate(envelope.data)
    except ValidationError as exc:
        raise UnprocessableEvent(f"{detail_type} data is invalid: {exc}") from None
    cause = Cause(
        correlation_id=envelope.metadata.correlation_id, event_id=envelope.metadata.event_id
    )
    enrich_logger(logger, tenant_id=context.tenant_id, correlation_id=cause.correlation_id)
    return detail_type, data, context, cause


@tracer.capture_method
def record_handler(record: SQSRecord) -> None:
    try:
        detail_type, data, context, cause = _parse(record)
    except UnprocessableEvent as exc:
        logger.error("event left for the DLQ", reason=str(exc), message_id=record.message_id)
        raise
    reactions = container().reactions()
    enrich_metrics(metrics, tenant_id=context.tenant_id)
    if isinstance(data, readers.StockReserved):
        order = reactions.stock_reserved(context, data.order_id, cause)
        if changed_status(order, OrderStatus.CONFIRMED):
            metrics.add_metric(name="OrdersConfirmed", unit=MetricUnit.Count, value=1)
    elif isinstance(data, readers.StockReservationRejected):
        order = reactions.stock_reservation_rejected(context, data.order_id, data.reason, cause)
        if changed_status(order, OrderStatus.REJECTED):
            metrics.add_metric(name="OrdersRejected", unit=MetricUnit.Count, value=1)
    elif isinstance(data, readers.ProductCreated):
        reactions.product_created(context, data.product_id)
    elif isinstance(data, readers.ProductDeleted):
        reactions.product_deleted(context, data.product_id)
    elif isinstance(data, readers.StockReleased):
        pass  # the platform's rule delivers it; nothing in an order changes when stock returns
    elif isinstance(data, readers.TenantDeprovisioned):
        if data.tenant_id != context.tenant_id:
            reason = "TenantDeprovisioned names another tenant than its envelope"
            logger.error("event left for the DLQ", reason=reason, message_id=record.message_id)
            raise UnprocessableEvent(reason)
        purged = reactions.tenant_deprovisioned(context)
        logger.info("tenant's orders purged", items=purged)
    logger.info("event processed", detail_type=detail_type, event_id=cause.event_id)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )


# Init is done: its objects live as long as the environment, so collections skip them.
gc.freeze()
gc.enable()
