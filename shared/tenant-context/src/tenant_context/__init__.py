"""The tenant context: who calls, for which tenant, and the envelope that carries it on events.

Thin on purpose: values and their (de)serialisation only. No AWS calls, no business rules.
The tenant id always comes from a verified token (authorizer context) or an event envelope.
"""

from tenant_context.context import (
    InvalidTenantContext,
    MissingTenantId,
    Principal,
    RegionGroup,
    Role,
    TenantContext,
    Tier,
)
from tenant_context.envelope import (
    ENVELOPE_MAJOR_VERSION,
    Envelope,
    EventMetadata,
    InvalidEnvelope,
    new_metadata,
    read_envelope,
    write_envelope,
)
from tenant_context.observability import enrich_logger, enrich_metrics, traced_modules
from tenant_context.outbox import Cause, OutboxMessage, outbox_message, outbox_messages

__all__ = [
    "ENVELOPE_MAJOR_VERSION",
    "Cause",
    "Envelope",
    "EventMetadata",
    "InvalidEnvelope",
    "InvalidTenantContext",
    "MissingTenantId",
    "OutboxMessage",
    "Principal",
    "RegionGroup",
    "Role",
    "TenantContext",
    "Tier",
    "enrich_logger",
    "enrich_metrics",
    "new_metadata",
    "outbox_message",
    "outbox_messages",
    "read_envelope",
    "traced_modules",
    "write_envelope",
]
