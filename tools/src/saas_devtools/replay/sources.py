"""Where events are read from: the event log table (in AWS or on the local platform), or a file
of JSON lines (one EventBridge event per line, as `saas-replay --json` writes)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from saas_devtools.event_log.dynamodb_event_log import DynamoDBEventLog
from saas_devtools.event_log.logged_event import TABLE_NAME, LoggedEvent
from saas_devtools.replay.selection import Selection

PLATFORM_FILE = Path(".local/platform.json")


@dataclass(frozen=True)
class Endpoint:
    """Where AWS is: the local platform's endpoint, or None for the real AWS of the profile."""

    region: str
    endpoint_url: str | None = None

    def client(self, service: str) -> Any:
        import boto3

        kwargs: dict[str, Any] = {"region_name": self.region}
        if self.endpoint_url:
            # The local platform accepts any credentials; do not depend on a profile.
            kwargs |= {
                "endpoint_url": self.endpoint_url,
                "aws_access_key_id": "local",
                "aws_secret_access_key": "local",
            }
        return boto3.client(service, **kwargs)


def local_platform(path: Path = PLATFORM_FILE) -> Endpoint:
    """The endpoint of the running local platform (`make run` writes .local/platform.json)."""
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: start the local platform with `make run`")
    described = json.loads(path.read_text(encoding="utf-8"))
    endpoint = (
        described.get("endpoint_url")
        or described.get("aws_endpoint_url")
        or described.get("endpoint")
    )
    if not endpoint:
        raise ValueError(f"{path} names no endpoint_url")
    return Endpoint(region=str(described.get("region", "us-east-1")), endpoint_url=str(endpoint))


def from_event_log(
    endpoint: Endpoint, selection: Selection, table_name: str = TABLE_NAME
) -> Iterator[LoggedEvent]:
    log = DynamoDBEventLog(endpoint.client("dynamodb"), table_name)
    yield from log.read(
        selection.tenant_id,
        start=selection.start,
        end=selection.end,
        detail_types=list(selection.detail_types),
        correlation_id=selection.correlation_id,
    )


def from_file(path: Path, selection: Selection) -> Iterator[LoggedEvent]:
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                event = LoggedEvent.from_eventbridge(json.loads(line))
            except (ValueError, TypeError) as exc:
                raise ValueError(f"{path}:{number}: {exc}") from None
            if selection.matches(event):
                yield event
