"""SQS consumer of the saga and tenant lifecycle events (queue `saas-product-events`).

Each record is one EventBridge event delivered by a rule, dispatched through one table,
EVENT_HANDLERS (detail-type -> handler), as a message bus does: each handler reads the event
with its reader model (event_readers.py) and calls one use case. A record that cannot be handled
(a detail-type with no entry, an unknown major version, an invalid envelope or data) is reported
as a batch item failure with its reason logged, so SQS retries it and then moves it to the DLQ.
Never a crash."""

from __future__ import annotations

import gc

# No cyclic collection while init imports and builds (about 25 ms of cold start); what it
# builds is frozen and collecting resumes at the end of this module.
gc.disable()

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

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

from product_service.app.stock import Outcome
from product_service.container import container
from product_service.domain.errors import OutsideTheTenant
from product_service.domain.model import OrderLine
from product_service.entrypoints.event_readers import (
    CONSUMED,
    OrderCancelledReader,
    OrderPlacedReader,
    TenantDeprovisionedReader,
)
from product_service.entrypoints.observability import logger, metrics, tracer
from tenant_context import (
    Cause,
    EventMetadata,
    InvalidEnvelope,
    InvalidTenantContext,
    TenantContext,
    enrich_logger,
    enrich_metrics,
    read_envelope,
)
from tenant_context.metering import metered

METRIC_OF = {
    Outcome.RESERVED: "StockReservationsReserved",
    Outcome.REJECTED: "StockReservationsRejected",
    Outcome.RELEASED: "StockReservationsReleased",
}

Reader = TypeVar("Reader", bound=BaseModel)


class UnprocessableMessage(Exception):
    """The message can never be handled as it is: its reason goes to the log, it to the DLQ."""


@dataclass(frozen=True, slots=True)
class ReceivedEvent:
    """One event off the queue: its envelope checked, its data not read yet."""

    detail_type: str
    metadata: EventMetadata
    data: Mapping[str, Any]
    tenant: TenantContext

    @property
    def cause(self) -> Cause:
        return Cause(correlation_id=self.metadata.correlation_id, event_id=self.metadata.event_id)

    def read(self, reader: type[Reader]) -> Reader:
        """The data through the reader model of the major version this consumer reads."""
        accepted = getattr(reader, "event_version", 1)
        if self.metadata.event_version != accepted:
            raise UnprocessableMessage(
                f"{self.detail_type} event_version {self.metadata.event_version} is not "
                f"supported (this consumer reads major {accepted})"
            )
        try:
            # The reader's own validation: Powertools' parser imports every built-in event
            # model, which adds about a third to this handler's import time.
            return reader.model_validate(self.data)
        except ValidationError as exc:
            raise UnprocessableMessage(
                f"{self.detail_type} data is invalid: {exc.errors()}"
            ) from None


EventHandler = Callable[[ReceivedEvent], Outcome | None]


def _order_placed(event: ReceivedEvent) -> Outcome:
    data = event.read(OrderPlacedReader)
    lines = [OrderLine(line.product_id, line.quantity) for line in data.lines]
    return container().stock_keeper.reserve(event.tenant, event.cause, data.order_id, lines)


def _order_cancelled(event: ReceivedEvent) -> Outcome:
    data = event.read(OrderCancelledReader)
    return container().stock_keeper.release(event.tenant, event.cause, data.order_id)


def _tenant_deprovisioned(event: ReceivedEvent) -> None:
    data = event.read(TenantDeprovisionedReader)
    if data.tenant_id != event.tenant.tenant_id:
        raise UnprocessableMessage(
            "TenantDeprovisioned data.tenant_id differs from the envelope's tenant"
        )
    deleted = container().stock_keeper.purge(event.tenant)
    logger.info("tenant data purged", items=deleted)


EVENT_HANDLERS: Mapping[str, EventHandler] = {
    "OrderPlaced": _order_placed,
    "OrderCancelled": _order_cancelled,
    "TenantDeprovisioned": _tenant_deprovisioned,
}


def _receive(record: SQSRecord) -> ReceivedEvent:
    try:
        event = json.loads(record.body)
    except json.JSONDecodeError as exc:
        raise UnprocessableMessage(f"body is not JSON: {exc.msg}") from None
    if not isinstance(event, dict):
        raise UnprocessableMessage("body is not an EventBridge event")
    source, detail_type = event.get("source"), event.get("detail-type")
    if detail_type not in EVENT_HANDLERS or (source, detail_type) not in CONSUMED:
        raise UnprocessableMessage(f"no reader for source/detail-type {(source, detail_type)}")
    try:
        envelope = read_envelope(event.get("detail") or {})
    except (InvalidEnvelope, InvalidTenantContext) as exc:
        raise UnprocessableMessage(f"{detail_type}: {exc}") from None
    tenant = TenantContext.from_envelope(envelope.metadata)
    return ReceivedEvent(str(detail_type), envelope.metadata, envelope.data, tenant)


def _left_for_the_dlq(reason: str, record: SQSRecord) -> None:
    logger.error("message left for the DLQ", reason=reason, message_id=record.message_id)


def record_handler(record: SQSRecord) -> None:
    logger.remove_keys(["tenant_id", "correlation_id"])  # the previous record's, if any
    try:
        event = _receive(record)
    except (UnprocessableMessage, InvalidTenantContext) as exc:
        _left_for_the_dlq(str(exc), record)
        raise
    enrich_logger(
        logger, tenant_id=event.tenant.tenant_id, correlation_id=event.metadata.correlation_id
    )
    enrich_metrics(metrics, tenant_id=event.tenant.tenant_id)
    try:
        outcome = EVENT_HANDLERS[event.detail_type](event)
    except (UnprocessableMessage, OutsideTheTenant) as exc:  # never handled as it is
        _left_for_the_dlq(str(exc), record)
        raise
    except Exception:
        # The message id names it in the DLQ, should every delivery fail (its reason, then).
        logger.exception(
            "event failed; SQS will deliver it again",
            detail_type=event.detail_type,
            message_id=record.message_id,
        )
        raise
    if outcome is None:
        return
    logger.info("event handled", detail_type=event.detail_type, outcome=outcome.value)
    if outcome in METRIC_OF:
        metrics.add_metric(name=METRIC_OF[outcome], unit=MetricUnit.Count, value=1)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@metered(metrics)
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    # A processor per invocation: it holds the batch's results while it runs.
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )


# Init is done: its objects live as long as the environment, so collections skip them.
gc.freeze()
gc.enable()
