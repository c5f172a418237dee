"""The outbox relay: on the service table's stream (outbox INSERTs only, by FilterCriteria),
publish each event to the bus. A failed publish fails only its record (partial batch failure),
so it is retried and nothing is lost."""

from __future__ import annotations

import gc

# No cyclic collection while init imports and builds (about 25 ms of cold start); what it
# builds is frozen and collecting resumes at the end of this module.
gc.disable()

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
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from tenant_context import traced_modules
from tenant_service.container import Container

logger = Logger(service="tenant-outbox-relay")
tracer = Tracer(service="tenant", patch_modules=traced_modules())
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
container = Container()


def record_handler(record: DynamoDBRecord) -> None:
    image = record.dynamodb.new_image if record.dynamodb else None
    if not image or not str(image.get("pk", "")).startswith("OUTBOX#"):
        return  # not an outbox item: the FilterCriteria normally keeps these away
    container.publisher().publish(
        source=str(image["source"]),
        detail_type=str(image["detail_type"]),
        detail_json=str(image["detail"]),
    )


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )


# Init is done: its objects live as long as the environment, so collections skip them.
gc.freeze()
gc.enable()
