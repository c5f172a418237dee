"""The tenant context: who calls, for which tenant, and the envelope that carries it on events.

Thin on purpose: values and their (de)serialisation only. No AWS calls, no business rules.
The tenant id always comes from a verified token (authorizer context) or an event envelope.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

# Each name is imported from its module on first use: a handler that needs the route
# permissions alone (the authorizer) does not pay for the envelope's pydantic models (some
# 10-15 ms of its cold start).
_MODULE_OF = {
    "Cause": "tenant_context.outbox",
    "ENVELOPE_MAJOR_VERSION": "tenant_context.envelope",
    "Envelope": "tenant_context.envelope",
    "EventMetadata": "tenant_context.envelope",
    "InvalidEnvelope": "tenant_context.envelope",
    "InvalidTenantContext": "tenant_context.context",
    "MissingTenantId": "tenant_context.context",
    "OutboxMessage": "tenant_context.outbox",
    "Principal": "tenant_context.context",
    "RegionGroup": "tenant_context.context",
    "Role": "tenant_context.context",
    "TenantContext": "tenant_context.context",
    "Tier": "tenant_context.context",
    "enrich_logger": "tenant_context.observability",
    "enrich_metrics": "tenant_context.observability",
    "new_metadata": "tenant_context.envelope",
    "outbox_message": "tenant_context.outbox",
    "outbox_messages": "tenant_context.outbox",
    "read_envelope": "tenant_context.envelope",
    "traced_modules": "tenant_context.observability",
    "write_envelope": "tenant_context.envelope",
}


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


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
