"""The outbox relay's handler on the pooled table's stream (filtered to outbox INSERTs): the
batch's messages go to the bus of this region in one PutEvents call. A record whose message was
not published is a batch item failure: Lambda retries from it, so no event is lost
(at-least-once; consumers are idempotent by event_id)."""

from __future__ import annotations

import gc

# No cyclic collection while init imports and builds (about 25 ms of cold start); what it
# builds is frozen and collecting resumes at the end of this module.
gc.disable()

import json
from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
    DynamoDBRecordEventName,
    DynamoDBStreamEvent,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from product_service.container import container
from product_service.entrypoints.observability import logger, metrics, tracer
from tenant_context import OutboxMessage
from tenant_context.metering import metered

OUTBOX_PREFIX = "OUTBOX#"


def _message(record: DynamoDBRecord) -> OutboxMessage | None:
    """The outbox message a stream record carries; None for any other change."""
    if record.event_name is not DynamoDBRecordEventName.INSERT or record.dynamodb is None:
        return None
    image = record.dynamodb.new_image
    if not str(image.get("sk", "")).startswith(OUTBOX_PREFIX):
        return None  # the FilterCriteria already drops these; a local poller may not
    return OutboxMessage(
        event_id=str(image["event_id"]),
        source=str(image["source"]),
        detail_type=str(image["detail_type"]),
        detail=json.loads(image["detail"]),
    )


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@metered(metrics)
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    failed: list[str] = []  # sequence numbers of the records to retry
    batch: list[tuple[str, OutboxMessage]] = []
    for record in DynamoDBStreamEvent(event).records:
        sequence = str(record.dynamodb.sequence_number if record.dynamodb else "")
        try:
            message = _message(record)
        except (KeyError, TypeError, ValueError) as exc:
            logger.error("outbox record unreadable; it will be retried", reason=repr(exc))
            failed.append(sequence)
            continue
        if message is not None:
            batch.append((sequence, message))
    if batch:
        report = container().stream_outbox_relay.publish([m for _, m in batch])
        for failure in report.failures:
            logger.warning("publish failed; the record will be retried", reason=failure)
        refused = set(report.failed)
        for sequence, message in batch:
            if message.event_id in refused:
                failed.append(sequence)
            else:
                logger.info(
                    "event relayed",
                    detail_type=message.detail_type,
                    event_id=message.event_id,
                    tenant_id=message.detail.get("metadata", {}).get("tenant_id"),
                    correlation_id=message.detail.get("metadata", {}).get("correlation_id"),
                )
    return {"batchItemFailures": [{"itemIdentifier": s} for s in failed]}


# Init is done: its objects live as long as the environment, so collections skip them.
gc.freeze()
gc.enable()
