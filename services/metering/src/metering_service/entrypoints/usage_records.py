"""The consumer of the usage records: CloudWatch Logs delivers the functions' log events that
match the account's subscription filter policy (the template's `UsageSubscription`) here, as
`awslogs.data` (base64 of gzip of {messageType, logGroup, logEvents: [{id, timestamp,
message}]}).

A record that is not a usage record is counted (`BadUsageRecords`) and logged with its reason,
never failing the batch; the batch's usage is added once (its marker is the hash of its log
event ids), so a redelivery adds nothing. A store failure raises: Lambda retries the
asynchronous invocation and the marker keeps the retry from counting twice."""

from __future__ import annotations

import gc

# No cyclic collection while init imports and builds; what it builds is frozen at the end.
gc.disable()

import base64
import binascii
import gzip
import json
import zlib
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from metering_service.app.usage import LogEvent
from metering_service.container import container
from metering_service.entrypoints.observability import logger, metrics, tracer


class NotALogsDelivery(Exception):
    """The event is not a CloudWatch Logs subscription delivery."""


def read_delivery(event: Any) -> dict[str, Any]:
    """The decoded `awslogs.data` of a subscription delivery."""
    try:
        data = event["awslogs"]["data"]
        return dict(json.loads(gzip.decompress(base64.b64decode(data, validate=True))))
    except (KeyError, TypeError, ValueError, binascii.Error, OSError, zlib.error) as exc:
        raise NotALogsDelivery(f"not a CloudWatch Logs delivery: {exc!r}") from None


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        delivery = read_delivery(event)
    except NotALogsDelivery as exc:
        logger.error("event dropped", reason=str(exc))
        metrics.add_metric(name="BadUsageDeliveries", unit=MetricUnit.Count, value=1)
        return {"records": 0, "bad": 0}
    if delivery.get("messageType") != "DATA_MESSAGE":  # CloudWatch Logs' own check message
        metrics.add_metric(name="UsageControlMessages", unit=MetricUnit.Count, value=1)
        return {"records": 0, "bad": 0}
    events = [
        LogEvent(id=str(e.get("id", "")), message=str(e.get("message", "")))
        for e in delivery.get("logEvents") or []
        if isinstance(e, dict)
    ]
    report = container().metering.count(events)
    for event_id, reason in report.bad:
        logger.warning("not a usage record", log_event_id=event_id, reason=reason)
    metrics.add_metric(name="UsageRecords", unit=MetricUnit.Count, value=report.records)
    metrics.add_metric(name="BadUsageRecords", unit=MetricUnit.Count, value=len(report.bad))
    if not report.counted:
        metrics.add_metric(name="UsageRedeliveries", unit=MetricUnit.Count, value=1)
        logger.info("delivery counted before: nothing added", log_group=delivery.get("logGroup"))
    return {"records": report.records, "bad": len(report.bad), "counted": report.counted}


# Init is done: its objects live as long as the environment, so collections skip them.
gc.freeze()
gc.enable()
