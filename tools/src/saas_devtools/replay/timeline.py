"""A tenant's events as lines a person reads: time, source, detail-type, ids, data."""

from __future__ import annotations

import json
from collections.abc import Iterable

from saas_devtools.event_log.logged_event import LoggedEvent, sort_instant


def timeline(events: Iterable[LoggedEvent]) -> list[str]:
    lines = []
    for event in events:
        detail = event.detail
        metadata = detail.get("metadata", {})
        data = json.dumps(detail.get("data", {}), separators=(",", ":"), sort_keys=True)
        caused_by = metadata.get("causation_id") or "-"
        lines.append(
            f"{sort_instant(event.occurred_at)}  {event.source:<16} {event.detail_type:<26} "
            f"event={event.event_id} correlation={event.correlation_id} cause={caused_by} "
            f"v{metadata.get('event_version', '?')}  {data}"
        )
    return lines


def json_lines(events: Iterable[LoggedEvent]) -> list[str]:
    """One EventBridge event per line: the form `--events FILE` reads back."""
    return [json.dumps(e.event, separators=(",", ":"), sort_keys=True) for e in events]
