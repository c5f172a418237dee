"""One event as the log keeps it: the EventBridge event whole, keyed by tenant and time."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tenant_context import read_envelope

TABLE_NAME = "saas-event-log"


class UnloggableEvent(ValueError):
    """The message is not an EventBridge event carrying a valid envelope; the text says why."""


def partition_key(tenant_id: str) -> str:
    return f"TENANT#{tenant_id}"


def sort_instant(moment: datetime) -> str:
    """Fixed-width UTC text, so the sort key's lexical order is time order."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class LoggedEvent:
    tenant_id: str
    occurred_at: datetime
    event_id: str
    correlation_id: str
    source: str
    detail_type: str
    event: Mapping[str, Any]  # the EventBridge event as delivered: source, detail-type, detail...

    @property
    def sort_key(self) -> str:
        return f"{sort_instant(self.occurred_at)}#{self.event_id}"

    @property
    def detail(self) -> Mapping[str, Any]:
        detail: Mapping[str, Any] = self.event["detail"]
        return json.loads(detail) if isinstance(detail, str) else detail

    @classmethod
    def from_eventbridge(cls, event: Mapping[str, Any]) -> LoggedEvent:
        try:
            source, detail_type, detail = event["source"], event["detail-type"], event["detail"]
        except KeyError as exc:
            raise UnloggableEvent(f"not an EventBridge event: no {exc.args[0]!r}") from None
        try:
            envelope = read_envelope(detail)
        except ValueError as exc:
            raise UnloggableEvent(f"{source} {detail_type}: {exc}") from None
        metadata = envelope.metadata
        return cls(
            tenant_id=metadata.tenant_id,
            occurred_at=metadata.occurred_at,
            event_id=metadata.event_id,
            correlation_id=metadata.correlation_id,
            source=str(source),
            detail_type=str(detail_type),
            event=dict(event),
        )

    @classmethod
    def from_sqs_body(cls, body: str) -> LoggedEvent:
        try:
            event = json.loads(body)
        except json.JSONDecodeError as exc:
            raise UnloggableEvent(f"message body is not JSON: {exc.msg}") from None
        if not isinstance(event, dict):
            raise UnloggableEvent("message body is not a JSON object")
        return cls.from_eventbridge(event)
