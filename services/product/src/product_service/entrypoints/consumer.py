"""SQS consumer of the saga and tenant lifecycle events (queue `saas-product-events`).

Each record is one EventBridge event delivered by a rule. A record that cannot be handled
(unknown type or major version, invalid envelope or data) is reported as a batch item failure
with its reason logged, so SQS retries it and then moves it to the DLQ. Never a crash."""

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
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ValidationError

from product_service.app.stock import EventCause, Outcome
from product_service.container import container
from product_service.domain.model import OrderLine
from product_service.entrypoints.event_readers import (
    CONSUMED,
    OrderCancelledReader,
    OrderPlacedReader,
    TenantDeprovisionedReader,
)
from tenant_context import (
    EventMetadata,
    InvalidEnvelope,
    InvalidTenantContext,
    TenantContext,
    enrich_logger,
    enrich_metrics,
    read_envelope,
    traced_modules,
)

logger = Logger(service="product")
tracer = Tracer(service="product", patch_modules=traced_modules())
metrics = Metrics(namespace="SaaS", service="product")

METRIC_OF = {
    Outcome.RESERVED: "StockReservationsReserved",
    Outcome.REJECTED: "StockReservationsRejected",
    Outcome.RELEASED: "StockReservationsReleased",
}


class UnprocessableMessage(Exception):
    """The message can never be handled as it is: its reason goes to the log, it to the DLQ."""


def _parse(record: SQSRecord) -> tuple[str, EventMetadata, BaseModel]:
    try:
        event = json.loads(record.body)
    except json.JSONDecodeError as exc:
        raise UnprocessableMessage(f"body is not JSON: {exc.msg}") from None
    if not isinstance(event, dict):
        raise UnprocessableMessage("body is not an EventBridge event")
    key = (event.get("source"), event.get("detail-type"))
    reader = CONSUMED.get(key)  # type: ignore[arg-type]
    if reader is None:
        raise UnprocessableMessage(f"no reader for source/detail-type {key}")
    try:
        envelope = read_envelope(event.get("detail") or {})
    except (InvalidEnvelope, InvalidTenantContext) as exc:
        raise UnprocessableMessage(f"{key[1]}: {exc}") from None
    accepted = getattr(reader, "event_version", 1)
    if envelope.metadata.event_version != accepted:
        raise UnprocessableMessage(
            f"{key[1]} event_version {envelope.metadata.event_version} is not supported "
            f"(this consumer reads major {accepted})"
        )
    try:
        # The reader's own validation: Powertools' parser imports every built-in event model,
        # which adds about a third to this handler's import time (python -X importtime).
        data = reader.model_validate(envelope.data)
    except ValidationError as exc:
        raise UnprocessableMessage(f"{key[1]} data is invalid: {exc.errors()}") from None
    return str(key[1]), envelope.metadata, data


def record_handler(record: SQSRecord) -> None:
    logger.remove_keys(["tenant_id", "correlation_id"])  # the previous record's, if any
    try:
        detail_type, metadata, data = _parse(record)
        tenant = TenantContext.from_envelope(metadata)
    except (UnprocessableMessage, InvalidTenantContext) as exc:
        logger.error("message left for the DLQ", reason=str(exc), message_id=record.message_id)
        raise
    enrich_logger(logger, tenant_id=tenant.tenant_id, correlation_id=metadata.correlation_id)
    enrich_metrics(metrics, tenant_id=tenant.tenant_id)
    try:
        _handle(detail_type, data, tenant, metadata)
    except UnprocessableMessage:
        raise
    except Exception:
        logger.exception("event failed; SQS will deliver it again", detail_type=detail_type)
        raise


def _handle(
    detail_type: str, data: BaseModel, tenant: TenantContext, metadata: EventMetadata
) -> None:
    cause = EventCause(event_id=metadata.event_id, correlation_id=metadata.correlation_id)
    keeper = container().stock_keeper()
    if isinstance(data, OrderPlacedReader):
        lines = [OrderLine(line.product_id, line.quantity) for line in data.lines]
        outcome = keeper.reserve(tenant, cause, data.order_id, lines)
    elif isinstance(data, OrderCancelledReader):
        outcome = keeper.release(tenant, cause, data.order_id)
    elif isinstance(data, TenantDeprovisionedReader):
        if data.tenant_id != tenant.tenant_id:
            reason = "TenantDeprovisioned data.tenant_id differs from the envelope's tenant"
            logger.error("message left for the DLQ", reason=reason)
            raise UnprocessableMessage(reason)
        deleted = keeper.purge(tenant)
        logger.info("tenant data purged", items=deleted)
        return
    else:  # pragma: no cover - CONSUMED and this dispatch are kept together
        raise UnprocessableMessage(f"no handler for {detail_type}")
    logger.info("event handled", detail_type=detail_type, outcome=outcome.value)
    if outcome in METRIC_OF:
        metrics.add_metric(name=METRIC_OF[outcome], unit=MetricUnit.Count, value=1)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    # A processor per invocation: it holds the batch's results while it runs.
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )


# Init is done: its objects live as long as the environment, so collections skip them.
gc.freeze()
gc.enable()
