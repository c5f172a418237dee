"""What to replay: a tenant, a time window, detail-types, a correlation id."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from saas_devtools.event_log.logged_event import LoggedEvent

_DURATION = re.compile(r"^(?P<amount>[0-9]+)(?P<unit>[smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> timedelta:
    """`90s`, `15m`, `1h`, `2d`, `1w`."""
    match = _DURATION.match(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a duration like 90s, 15m, 1h, 2d or 1w")
    return timedelta(**{_UNITS[match["unit"]]: int(match["amount"])})


def parse_instant(text: str) -> datetime:
    """RFC 3339 / ISO 8601; a time without an offset is taken as UTC."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r} is not a time like 2026-11-23T20:00:00Z") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Selection:
    tenant_id: str
    start: datetime | None = None
    end: datetime | None = None
    detail_types: tuple[str, ...] = ()
    correlation_id: str | None = None

    @classmethod
    def build(
        cls,
        tenant_id: str,
        *,
        since: str | None = None,
        start: str | None = None,
        end: str | None = None,
        detail_types: Iterable[str] = (),
        correlation_id: str | None = None,
        now: datetime,
    ) -> Selection:
        if since and start:
            raise ValueError("give either --since or --from, not both")
        begin = now - parse_duration(since) if since else parse_instant(start) if start else None
        finish = parse_instant(end) if end else None
        if begin and finish and finish < begin:
            raise ValueError("--to is before the start of the window")
        return cls(tenant_id, begin, finish, tuple(detail_types), correlation_id)

    def matches(self, event: LoggedEvent) -> bool:
        return (
            event.tenant_id == self.tenant_id
            and (self.start is None or event.occurred_at >= self.start)
            and (self.end is None or event.occurred_at <= self.end)
            and (not self.detail_types or event.detail_type in self.detail_types)
            and (self.correlation_id is None or event.correlation_id == self.correlation_id)
        )


def replay_order(events: Iterable[LoggedEvent]) -> list[LoggedEvent]:
    """By the envelope's occurred_at (then event id): each aggregate's events in the order they
    happened, whatever order the log, an archive or a file returned them in."""
    return sorted(events, key=lambda e: (e.occurred_at, e.event_id))
