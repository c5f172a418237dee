"""Consumer of the provisioner's events (queue `saas-tenant-events`): the tenant's status follows
its environment; and of this service's own changes of standing (suspended, activated,
offboarding, another tier, a user disabled, enabled or removed), after which every API's
authorizer cache is flushed so that every token, already used or not, learns of it
(app/access.py). One dispatch table, EVENT_HANDLERS,
from detail-type to handler. Partial batch failures; a message that can never be processed (not
an envelope, a detail-type with no handler, an unknown major version, bad data, an unknown
tenant) goes to the DLQ with the reason and is not retried; anything else fails its item and is
retried.
"""

from __future__ import annotations

import gc

# No cyclic collection while init imports and builds (about 25 ms of cold start); what it
# builds is frozen and collecting resumes at the end of this module.
gc.disable()

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

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

from tenant_context import (
    Cause,
    Envelope,
    InvalidEnvelope,
    InvalidTenantContext,
    enrich_logger,
    read_envelope,
)
from tenant_context.metering import metered
from tenant_service.container import container
from tenant_service.domain.errors import TenantNotFound
from tenant_service.domain.tenant import Tenant
from tenant_service.entrypoints.event_readers import (
    CONSUMED,
    TenantDeprovisionedReader,
    TenantProvisionedReader,
    TenantProvisioningFailedReader,
    TenantStandingChangedReader,
    TenantUpdatedReader,
    TenantUserChangedReader,
)
from tenant_service.entrypoints.observability import logger, metrics, tracer

SOURCE = "saas.provisioner"
OWN_SOURCE = "saas.tenant"
processor = BatchProcessor(event_type=EventType.SQS)


class Poison(Exception):
    """This message will never succeed: send it to the DLQ with the reason."""


class EventHandler:
    """One detail-type: its source, its reader model (with the major it accepts) and the use case
    it calls with the tenant id, the cause, the event's data and when it occurred; returns the
    tenant as changed, or None when the event changed nothing (a duplicate, one overtaken by a
    later change, or a reaction that changes no tenant)."""

    def __init__(
        self,
        source: str,
        reader: type[BaseModel],
        react: Callable[[str, Cause, Any, datetime], Tenant | None],
    ) -> None:
        self.source = source
        self.reader = reader
        self.react = react

    def __call__(self, detail_type: str, envelope: Envelope) -> Tenant | None:
        # Every reader sets the class var event_version (the major it accepts).
        accepted = int(getattr(self.reader, "event_version"))  # noqa: B009
        major = envelope.metadata.event_version
        if major != accepted:
            raise Poison(f"{detail_type} event_version {major} is not the supported {accepted}")
        try:
            data = self.reader.model_validate(envelope.data)
        except ValidationError as exc:
            raise Poison(
                f"{detail_type} data is invalid: {exc.errors(include_url=False)}"
            ) from None
        if getattr(data, "tenant_id", None) != envelope.metadata.tenant_id:
            raise Poison("data.tenant_id differs from metadata.tenant_id")
        cause = Cause(
            correlation_id=envelope.metadata.correlation_id, event_id=envelope.metadata.event_id
        )
        try:
            return self.react(
                envelope.metadata.tenant_id, cause, data, envelope.metadata.occurred_at
            )
        except TenantNotFound as exc:
            raise Poison(str(exc)) from None


def _provisioned(
    tenant_id: str, cause: Cause, data: TenantProvisionedReader, at: datetime
) -> Tenant | None:
    return container().reactions.provisioned(tenant_id, cause)


def _provisioning_failed(
    tenant_id: str, cause: Cause, data: TenantProvisioningFailedReader, at: datetime
) -> Tenant | None:
    return container().reactions.provisioning_failed(tenant_id, cause, data.reason)


def _deprovisioned(
    tenant_id: str, cause: Cause, data: TenantDeprovisionedReader, at: datetime
) -> Tenant | None:
    changed = container().reactions.deprovisioned(tenant_id, cause)
    container().reactions.released(tenant_id)  # idempotent: a redelivery finds no key
    return changed


def _standing_changed(
    tenant_id: str, cause: Cause, data: TenantStandingChangedReader, at: datetime
) -> Tenant | None:
    flushed = container().reactions.standing_changed(tenant_id, at)
    logger.info("authorizer caches flushed", extra={"stages": flushed})
    return None


def _user_changed(
    tenant_id: str, cause: Cause, data: TenantUserChangedReader, at: datetime
) -> Tenant | None:
    # Flushed here, not by the use case: the API answers at once, the event is retried until
    # the flush is done, and the second flush waits out the authorizers' user cache TTL.
    flushed = container().reactions.standing_changed(tenant_id, at)
    logger.info("authorizer caches flushed", extra={"stages": flushed, "user": data.username})
    return None


def _updated(
    tenant_id: str, cause: Cause, data: TenantUpdatedReader, at: datetime
) -> Tenant | None:
    if data.tier == data.previous_tier:
        return None  # its config alone: nothing the edge knows of
    changed = container().reactions.tier_changed(tenant_id, cause)
    # The tier is in the authorizer's answer (the services read it): cached answers must go.
    container().reactions.standing_changed(tenant_id, at)
    return changed


def _handler(source: str, detail_type: str, react: Callable[..., Tenant | None]) -> EventHandler:
    # Each reader is the one CONSUMED declares (the contract tests read CONSUMED).
    return EventHandler(source, CONSUMED[(source, detail_type)], react)


EVENT_HANDLERS: Mapping[str, EventHandler] = {
    "TenantProvisioned": _handler(SOURCE, "TenantProvisioned", _provisioned),
    "TenantProvisioningFailed": _handler(SOURCE, "TenantProvisioningFailed", _provisioning_failed),
    "TenantDeprovisioned": _handler(SOURCE, "TenantDeprovisioned", _deprovisioned),
    "TenantSuspended": _handler(OWN_SOURCE, "TenantSuspended", _standing_changed),
    "TenantActivated": _handler(OWN_SOURCE, "TenantActivated", _standing_changed),
    "TenantOffboardingRequested": _handler(
        OWN_SOURCE, "TenantOffboardingRequested", _standing_changed
    ),
    "TenantUpdated": _handler(OWN_SOURCE, "TenantUpdated", _updated),
    "TenantUserDisabled": _handler(OWN_SOURCE, "TenantUserDisabled", _user_changed),
    "TenantUserEnabled": _handler(OWN_SOURCE, "TenantUserEnabled", _user_changed),
    "TenantUserRemoved": _handler(OWN_SOURCE, "TenantUserRemoved", _user_changed),
}


def _react(body: dict[str, Any]) -> None:
    source, detail_type = body.get("source"), body.get("detail-type")
    if (
        not isinstance(detail_type, str)
        or detail_type not in EVENT_HANDLERS
        or source != EVENT_HANDLERS[detail_type].source
    ):
        raise Poison(f"no handler for event {detail_type!r} from {source!r}")
    handler = EVENT_HANDLERS[detail_type]
    try:
        envelope = read_envelope(body.get("detail") or {})
    except (InvalidEnvelope, InvalidTenantContext) as exc:
        raise Poison(str(exc)) from None
    enrich_logger(
        logger,
        tenant_id=envelope.metadata.tenant_id,
        correlation_id=envelope.metadata.correlation_id,
    )
    changed = handler(detail_type, envelope)
    logger.info(
        "event processed",
        extra={
            "detail_type": detail_type,
            "event_id": envelope.metadata.event_id,
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
    container().dead_letters.send(record.body, reason)


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
