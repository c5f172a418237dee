"""SQS consumer of the events the order service reacts to (EventBridge -> SQS -> here).

Each record is one EventBridge event, dispatched by its detail-type through EVENT_HANDLERS (one
handler per event: it reads the data with its reader model and calls one use case). A record
that cannot be processed (no reader or no handler for it, a major version this reader does not
know, invalid data) fails with its reason logged: SQS redelivers it and, past the queue's
maxReceiveCount, moves it to the DLQ. The batch never crashes; Powertools reports the failed
records as batch item failures."""

from __future__ import annotations

import gc

# No cyclic collection while init imports and builds (about 25 ms of cold start); what it
# builds is frozen and collecting resumes at the end of this module.
gc.disable()

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from order_service.app.reactions import changed_status
from order_service.container import container
from order_service.domain.errors import OutsideTheTenant
from order_service.domain.order import OrderStatus
from order_service.entrypoints import event_readers as readers
from order_service.entrypoints.observability import logger, metrics, tracer
from tenant_context import (
    Cause,
    InvalidEnvelope,
    InvalidTenantContext,
    TenantContext,
    enrich_logger,
    enrich_metrics,
    read_envelope,
)
from tenant_context.metering import metered

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse

# A batch whose every record failed is still a report of failures, never a crash.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


class UnprocessableEvent(Exception):
    """The event can never be processed as it is: its reason goes with it to the DLQ."""


# (the envelope's data, the tenant, the cause) -> None
EventHandler = Callable[[Mapping[str, Any], TenantContext, Cause], None]


def stock_reserved(data: Mapping[str, Any], ctx: TenantContext, cause: Cause) -> None:
    event = readers.StockReserved.model_validate(data)
    order = container().reactions.stock_reserved(ctx, event.order_id, cause)
    if changed_status(order, OrderStatus.CONFIRMED):
        metrics.add_metric(name="OrdersConfirmed", unit=MetricUnit.Count, value=1)
        _saga_seconds(order.placed_at if order else None)


def stock_reservation_rejected(data: Mapping[str, Any], ctx: TenantContext, cause: Cause) -> None:
    event = readers.StockReservationRejected.model_validate(data)
    order = container().reactions.stock_reservation_rejected(
        ctx, event.order_id, event.reason, cause
    )
    if changed_status(order, OrderStatus.REJECTED):
        metrics.add_metric(name="OrdersRejected", unit=MetricUnit.Count, value=1)
        _saga_seconds(order.placed_at if order else None)


def stock_released(data: Mapping[str, Any], ctx: TenantContext, cause: Cause) -> None:
    # The platform's rule delivers it; nothing in an order changes when stock returns.
    readers.StockReleased.model_validate(data)


def tenant_deprovisioned(data: Mapping[str, Any], ctx: TenantContext, cause: Cause) -> None:
    event = readers.TenantDeprovisioned.model_validate(data)
    if event.tenant_id != ctx.tenant_id:
        raise UnprocessableEvent("TenantDeprovisioned names another tenant than its envelope")
    purged = container().reactions.tenant_deprovisioned(ctx)
    logger.info("tenant's orders purged", items=purged)


def _saga_seconds(placed_at: datetime | None) -> None:
    """The saga's time from placed to its final state (CONFIRMED or REJECTED)."""
    if placed_at is not None:
        placed = placed_at if placed_at.tzinfo else placed_at.replace(tzinfo=UTC)
        seconds = (datetime.now(UTC) - placed).total_seconds()
        metrics.add_metric(name="SagaSeconds", unit=MetricUnit.Seconds, value=max(0.0, seconds))


EVENT_HANDLERS: Mapping[str, EventHandler] = {
    "StockReserved": stock_reserved,
    "StockReservationRejected": stock_reservation_rejected,
    "StockReleased": stock_released,
    "TenantDeprovisioned": tenant_deprovisioned,
}


def _parse(record: SQSRecord) -> tuple[str, Mapping[str, Any], TenantContext, Cause]:
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
    accepted = getattr(reader, "event_version", 1)
    if envelope.metadata.event_version != accepted:
        raise UnprocessableEvent(
            f"{detail_type} event_version {envelope.metadata.event_version} is not the major "
            f"this reader accepts ({accepted})"
        )
    cause = Cause(
        correlation_id=envelope.metadata.correlation_id, event_id=envelope.metadata.event_id
    )
    enrich_logger(logger, tenant_id=context.tenant_id, correlation_id=cause.correlation_id)
    return detail_type, envelope.data, context, cause


def _dispatch(detail_type: str, data: Mapping[str, Any], ctx: TenantContext, cause: Cause) -> None:
    handle = EVENT_HANDLERS.get(detail_type)
    if handle is None:
        raise UnprocessableEvent(f"no handler for {detail_type}")
    enrich_metrics(metrics, tenant_id=ctx.tenant_id)
    try:
        handle(data, ctx, cause)
    except ValidationError as exc:
        raise UnprocessableEvent(f"{detail_type} data is invalid: {exc}") from None


@tracer.capture_method
def record_handler(record: SQSRecord) -> None:
    try:
        detail_type, data, context, cause = _parse(record)
        _dispatch(detail_type, data, context, cause)
    except (UnprocessableEvent, OutsideTheTenant) as exc:  # never handled as it is
        logger.error("event left for the DLQ", reason=str(exc), message_id=record.message_id)
        raise
    except Exception:
        # The message id names it in the DLQ, should every delivery fail (its reason, then).
        logger.exception("event failed; SQS will deliver it again", message_id=record.message_id)
        raise
    logger.info("event processed", detail_type=detail_type, event_id=cause.event_id)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
@metered(metrics)
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )


# Init is done: its objects live as long as the environment, so collections skip them.
gc.freeze()
gc.enable()
