"""The outbox relay's handler on the orders table's stream (outbox INSERTs only, by the
template's FilterCriteria) -> the bus.

A record whose event did not reach the bus is a batch item failure: Lambda retries from it,
so a failing publish loses nothing (EventBridge may then see an event twice; consumers are
idempotent by event_id)."""

from __future__ import annotations

import gc

# No cyclic collection while init imports and builds (about 25 ms of cold start); what it
# builds is frozen and collecting resumes at the end of this module.
gc.disable()

import json
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from order_service.container import container
from order_service.entrypoints.observability import logger, metrics, tracer
from tenant_context import OutboxMessage, enrich_logger
from tenant_context.metering import metered

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse

processor = BatchProcessor(
    event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False
)


class PublishFailed(Exception):
    pass


@tracer.capture_method
def record_handler(record: DynamoDBRecord) -> None:
    image = record.dynamodb.new_image if record.dynamodb else None
    if not image or not str(image.get("sk", "")).startswith("OUTBOX#"):
        return  # not an outbox insert: the template's filter keeps these away
    message = OutboxMessage(
        event_id=str(image["sk"]).removeprefix("OUTBOX#"),
        source=str(image["source"]),
        detail_type=str(image["detail_type"]),
        detail=json.loads(str(image["detail"])),
    )
    metadata = message.detail["metadata"]
    enrich_logger(
        logger, tenant_id=metadata["tenant_id"], correlation_id=metadata.get("correlation_id")
    )
    if container().outbox_relay.publish([message]):
        logger.warning("publish failed, will retry", event_id=message.event_id)
        raise PublishFailed(f"{message.detail_type} {message.event_id} did not reach the bus")
    logger.info("event relayed", detail_type=message.detail_type, event_id=message.event_id)


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
