"""Outbox relay: the pooled table's stream (filtered to outbox INSERTs) -> put_events on the bus
of this region. A record whose publish fails is a batch item failure: Lambda retries from it,
so no event is lost (at-least-once; consumers are idempotent by event_id)."""

from __future__ import annotations

import gc

# No cyclic collection while init imports and builds (about 25 ms of cold start); what it
# builds is frozen and collecting resumes at the end of this module.
gc.disable()

import json
from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
    DynamoDBRecordEventName,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from product_service.container import container
from product_service.ports.product_store import OutboxMessage
from tenant_context import traced_modules

logger = Logger(service="product")
tracer = Tracer(service="product", patch_modules=traced_modules())
OUTBOX_PREFIX = "OUTBOX#"


def record_handler(record: DynamoDBRecord) -> None:
    if record.event_name is not DynamoDBRecordEventName.INSERT or record.dynamodb is None:
        return
    image = record.dynamodb.new_image
    if not str(image.get("sk", "")).startswith(OUTBOX_PREFIX):
        return  # the FilterCriteria already drops these; a local poller may not
    detail = json.loads(image["detail"])
    metadata = detail.get("metadata", {})
    logger.append_keys(
        tenant_id=metadata.get("tenant_id"), correlation_id=metadata.get("correlation_id")
    )
    message = OutboxMessage(
        event_id=str(image["event_id"]),
        source=str(image["source"]),
        detail_type=str(image["detail_type"]),
        detail=detail,
    )
    try:
        container().event_publisher().publish(message)
    except Exception as exc:
        logger.warning("publish failed; the record will be retried", reason=str(exc))
        raise
    logger.info("event relayed", detail_type=message.detail_type, event_id=message.event_id)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    # A processor per invocation: it holds the batch's results while it runs.
    processor = BatchProcessor(
        event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False
    )
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )


# Init is done: its objects live as long as the environment, so collections skip them.
gc.freeze()
gc.enable()
