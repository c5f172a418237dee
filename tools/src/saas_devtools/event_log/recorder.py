"""Lambda handler: record every event from the `saas-event-log-events` queue into the event log.

An event without a valid envelope is reported as a batch item failure with the reason logged, so
after the queue's retries it lands in `saas-event-log-events-dlq`; the rest of the batch is kept.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pydantic import BaseModel, ConfigDict, Field

from saas_devtools.event_log.dynamodb_event_log import DynamoDBEventLog
from saas_devtools.event_log.logged_event import TABLE_NAME, LoggedEvent, UnloggableEvent
from tenant_context.metering import meter_session, metered

logger = Logger()  # named by the template (POWERTOOLS_SERVICE_NAME)
metrics = Metrics()  # its usage record, under the tenant _shared (README, "Usage and cost")


class Settings(BaseModel):
    """The function's environment, checked at cold start."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    table_name: str = Field(TABLE_NAME, alias="EVENT_LOG_TABLE")
    # Each event_id's marker: an event published twice is recorded once (dynamodb_event_log.py).
    ids_table: str | None = Field(None, alias="EVENT_LOG_IDS_TABLE")
    retention_days: int = Field(0, ge=0, alias="EVENT_LOG_RETENTION_DAYS")  # 0: keep forever
    region: str = Field("us-east-1", alias="AWS_REGION")
    aws_endpoint_url: str | None = Field(None, alias="AWS_ENDPOINT_URL")


@cache
def event_log() -> DynamoDBEventLog:
    """Built once per process and reused by warm invocations."""
    settings = Settings.model_validate(dict(os.environ))
    import boto3  # imported here: the handler module stays light to import

    client = boto3.client(
        "dynamodb", region_name=settings.region, endpoint_url=settings.aws_endpoint_url
    )
    meter_session(client.meta.events)  # its consumed capacity, in its usage record
    retention = timedelta(days=settings.retention_days) if settings.retention_days else None
    return DynamoDBEventLog(client, settings.table_name, retention, settings.ids_table)


def record_handler(record: SQSRecord) -> None:
    try:
        event = LoggedEvent.from_sqs_body(record.body)
    except UnloggableEvent as exc:
        logger.error("event not recorded", reason=str(exc), message_id=record.message_id)
        raise
    if not event_log().record(event, now=datetime.now(UTC)):
        logger.info("event recorded before", event_id=event.event_id)
        return
    logger.info(
        "event recorded",
        tenant_id=event.tenant_id,
        detail_type=event.detail_type,
        event_id=event.event_id,
    )


@logger.inject_lambda_context
@metrics.log_metrics
@metered(metrics)
def handler(event: dict[str, Any], context: Any) -> Mapping[str, Any]:
    # A processor per invocation (it holds the batch's results); a batch whose every record
    # failed is still a partial response, not an exception that would retry the good ones.
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
