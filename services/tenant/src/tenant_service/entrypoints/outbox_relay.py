"""The outbox relay's handler: on the service table's stream (outbox INSERTs only, by
FilterCriteria), publish each outbox message to the bus. A failed publish fails only its record
(partial batch failure), so it is retried and nothing is lost."""

from __future__ import annotations

import gc

# No cyclic collection while init imports and builds (about 25 ms of cold start); what it
# builds is frozen and collecting resumes at the end of this module.
gc.disable()

import json
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from tenant_context import OutboxMessage
from tenant_context.metering import metered
from tenant_service.container import container
from tenant_service.entrypoints.observability import logger, metrics, tracer

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


class PublishFailed(Exception):
    """The bus did not take the message: its record fails and is retried."""


def _event_id(image: dict[str, Any]) -> str | None:
    """The outbox item's event id (sk OUTBOX#<event_id>), or None for another item. An item of
    the key shape before (pk OUTBOX#<event_id>, sk OUTBOX) still in the stream when that shape
    changed is relayed too: the stream keeps a record 24 h."""
    pk, sk = str(image.get("pk", "")), str(image.get("sk", ""))
    if sk.startswith("OUTBOX#"):
        return str(image.get("event_id") or sk.removeprefix("OUTBOX#"))
    if pk.startswith("OUTBOX#") and sk == "OUTBOX":
        return pk.removeprefix("OUTBOX#")
    return None


def record_handler(record: DynamoDBRecord) -> None:
    image = record.dynamodb.new_image if record.dynamodb else None
    event_id = _event_id(image) if image else None
    if image is None or event_id is None:
        return  # not an outbox item: the FilterCriteria normally keeps these away
    message = OutboxMessage(
        event_id=event_id,
        source=str(image["source"]),
        detail_type=str(image["detail_type"]),
        detail=json.loads(str(image["detail"])),
    )
    if container().outbox_relay.publish([message]):
        raise PublishFailed(f"the bus did not take {message.detail_type} {message.event_id}")


@logger.inject_lambda_context(clear_state=True)
@tracer().capture_lambda_handler
@metrics.log_metrics
@metered(metrics)
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )


# Init is done: its objects live as long as the environment, so collections skip them.
gc.freeze()
gc.enable()
