"""Replay onto the bus through an EventBridge archive replay, addressed to the rules named.

Live rules exclude replayed events (`"replay-name": [{"exists": false}]` in infra/platform.yaml),
so a replay reaches only the rules it names (FilterArns). An archive replays a time window of
everything it holds: tenant, detail-type and correlation filters cannot be applied here; the
rules' own patterns decide what their targets get.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

ARCHIVE_NAME = "saas-all-events"
BUS_NAME = "saas"


@dataclass(frozen=True)
class ArchiveReplay:
    name: str
    state: str
    rule_arns: tuple[str, ...]


def start_archive_replay(
    events_client: Any,
    *,
    replay_name: str,
    rules: list[str],
    start: datetime,
    end: datetime,
    bus_name: str = BUS_NAME,
    archive_name: str = ARCHIVE_NAME,
) -> ArchiveReplay:
    archive_arn = events_client.describe_archive(ArchiveName=archive_name)["ArchiveArn"]
    bus_arn = events_client.describe_event_bus(Name=bus_name)["Arn"]
    rule_arns = tuple(
        events_client.describe_rule(Name=rule, EventBusName=bus_name)["Arn"] for rule in rules
    )
    events_client.start_replay(
        ReplayName=replay_name,
        Description=f"saas-replay to {', '.join(rules)}",
        EventSourceArn=archive_arn,
        EventStartTime=start,
        EventEndTime=end,
        Destination={"Arn": bus_arn, "FilterArns": list(rule_arns)},
    )
    state = events_client.describe_replay(ReplayName=replay_name)["State"]
    return ArchiveReplay(replay_name, state, rule_arns)
