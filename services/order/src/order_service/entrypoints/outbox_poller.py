"""The outbox relay's handler for the Fauna backend, on a schedule: Fauna has no stream for the
relay to ride (DynamoDB's outbox is relayed by outbox_relay.py on the table's stream instead).
Each run publishes what is pending; what fails stays pending for the next run, so nothing is
lost (an event may reach the bus twice; consumers are idempotent by event_id)."""

from __future__ import annotations

import gc

# No cyclic collection while init imports and builds (about 25 ms of cold start); what it
# builds is frozen and collecting resumes at the end of this module.
gc.disable()

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from order_service.container import container
from order_service.entrypoints.observability import logger, metrics, tracer
from tenant_context.metering import metered


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
@metered(metrics)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    report = container().outbox_relay.relay()
    metrics.add_metric(name="OutboxEventsRelayed", unit=MetricUnit.Count, value=report.published)
    if report.failed:
        metrics.add_metric(
            name="OutboxEventsFailed", unit=MetricUnit.Count, value=len(report.failed)
        )
    for event_id in report.failed:
        logger.warning("publish failed; the event stays pending", event_id=event_id)
    return {"published": report.published, "failed": len(report.failed)}


# Init is done: its objects live as long as the environment, so collections skip them.
gc.freeze()
gc.enable()
