"""Consumer of the provisioner's events (queue `saas-tenant-events`): the tenant's status follows
its environment. Partial batch failures; a message that can never be processed (not an
envelope, an unknown event or major version, bad data, an unknown tenant) goes to the DLQ with
the reason and is not retried; anything else fails its item and is retried."""

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
from pydantic import ValidationError

from tenant_context import (
    InvalidEnvelope,
    InvalidTenantContext,
    enrich_logger,
    read_envelope,
    traced_modules,
)
from tenant_service.app.provisioning import Cause
from tenant_service.container import Container
from tenant_service.domain.errors import TenantNotFound
from tenant_service.entrypoints.event_readers import (
    CONSUMED,
    TenantProvisioningFailedReader,
)

logger = Logger(service="tenant-consumer")
metrics = Metrics(namespace="saas", service="tenant")
tracer = Tracer(service="tenant", patch_modules=traced_modules())
processor = BatchProcessor(event_type=EventType.SQS)
container = Container()


class Poison(Exception):
    """This message will never succeed: send it to the DLQ with the reason."""


def _react(body: dict[str, Any]) -> None:
    key = (body.get("source"), body.get("detail-type"))
    reader = CONSUMED.get(key)  # type: ignore[arg-type]
    if reader is None:
        raise Poison(f"no reader for event {key[1]!r} from {key[0]!r}")
    try:
        envelope = read_envelope(body.get("detail") or {})
    except (InvalidEnvelope, InvalidTenantContext) as exc:
        raise Poison(str(exc)) from None
    # CONSUMED's values are typed type[BaseModel] by convention; each reader sets the class var.
    accepted = int(getattr(reader, "event_version"))  # noqa: B009
    major = envelope.metadata.event_version
    if major != accepted:
        raise Poison(f"{key[1]} event_version {major} is not the supported {accepted}")
    try:
        data = reader.model_validate(envelope.data)
    except ValidationError as exc:
        raise Poison(f"{key[1]} data is invalid: {exc.errors(include_url=False)}") from None
    if getattr(data, "tenant_id", None) != envelope.metadata.tenant_id:
        raise Poison("data.tenant_id differs from metadata.tenant_id")
    enrich_logger(
        logger,
        tenant_id=envelope.metadata.tenant_id,
        correlation_id=envelope.metadata.correlation_id,
    )
    cause = Cause(
        event_id=envelope.metadata.event_id,
        correlation_id=envelope.metadata.correlation_id,
        tenant_id=envelope.metadata.tenant_id,
    )
    reactions = container.reactions()
    try:
        if key[1] == "TenantProvisioned":
            changed = reactions.provisioned(cause)
        elif key[1] == "TenantProvisioningFailed":
            assert isinstance(data, TenantProvisioningFailedReader)
            changed = reactions.provisioning_failed(cause, data.reason)
        else:
            changed = reactions.deprovisioned(cause)
    except TenantNotFound as exc:
        raise Poison(str(exc)) from None
    logger.info(
        "event processed",
        extra={
            "detail_type": key[1],
            "event_id": cause.event_id,
            "status": changed.status.value if changed else "unchanged (duplicate or overtaken)",
        },
    )


def record_handler(record: SQSRecord) -> None:
    try:
        body = json.loads(record.body)
        if not isinstance(body, dict):
            raise Poison("message body is not a JSON object")
        _react(body)
    except json.JSONDecodeError as exc:
        _dead_letter(record, f"message body is not JSON: {exc.msg}")
    except Poison as exc:
        _dead_letter(record, str(exc))


def _dead_letter(record: SQSRecord, reason: str) -> None:
    logger.warning("sent to the DLQ", extra={"reason": reason, "message_id": record.message_id})
    metrics.add_metric(name="EventsDeadLettered", unit=MetricUnit.Count, value=1)
    container.dead_letters().send(record.body, reason)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )


# Init is done: its objects live as long as the environment, so collections skip them.
gc.freeze()
gc.enable()
