"""Replay events in process into a consumer's Lambda handler, one SQS message per invocation
(in replay order), so a debugger can stop in the handler and each failure names its event."""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from saas_devtools.contracts.discovery import Service, find_services
from saas_devtools.event_log.logged_event import LoggedEvent

Handler = Callable[[dict[str, Any], Any], Any]


@dataclass(frozen=True)
class Consumer:
    service: Service
    module: str  # under <package>.entrypoints

    @property
    def dotted(self) -> str:
        return f"{self.service.package}.entrypoints.{self.module}"

    def reads(self) -> set[tuple[str, str]]:
        """(source, detail-type) pairs the service declares it consumes; empty: not declared."""
        return set(self.service.consumed())

    def handler(self) -> Handler:
        module = importlib.import_module(self.dotted)
        handler = getattr(module, "handler", None)
        if not callable(handler):
            raise LookupError(f"{self.dotted} has no handler")
        return handler  # type: ignore[no-any-return]


def find_consumer(workspace: Path, target: str) -> Consumer:
    """`<service>:<module>` as in `--into order:event_consumer`."""
    service_name, _, module = target.partition(":")
    if not module:
        raise ValueError(f"{target!r}: expected <service>:<consumer module>, e.g. order:events")
    for service in find_services(workspace):
        if service.name == service_name:
            entrypoints = service.root / "src" / service.package / "entrypoints"
            if not (entrypoints / f"{module}.py").is_file():
                known = sorted(
                    p.stem for p in entrypoints.glob("*.py") if not p.stem.startswith("_")
                )
                raise LookupError(
                    f"{service_name} has no consumer {module!r} (entrypoints: {', '.join(known)})"
                )
            return Consumer(service, module)
    raise LookupError(f"no service {service_name!r}")


@dataclass(frozen=True)
class Outcome:
    event: LoggedEvent
    failed: bool
    error: str | None = None  # an exception that escaped the handler (it should never happen)


class LambdaContext:
    """What a handler (and Powertools' Logger) reads from Lambda's context object."""

    def __init__(self, function_name: str) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = 256
        arn = f"arn:aws:lambda:us-east-1:000000000000:function:{function_name}"
        self.invoked_function_arn = arn
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "replay"

    def get_remaining_time_in_millis(self) -> int:
        return 300_000


def sqs_event(event: LoggedEvent, queue_name: str, region: str = "us-east-1") -> dict[str, Any]:
    """The event as Lambda's SQS event source delivers an EventBridge target's message."""
    body = json.dumps(event.event, separators=(",", ":"))
    return {
        "Records": [
            {
                "messageId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"replay:{event.event_id}")),
                "receiptHandle": f"replay-{event.event_id}",
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": str(int(event.occurred_at.timestamp() * 1000)),
                    "SenderId": "events.amazonaws.com",
                    "ApproximateFirstReceiveTimestamp": str(
                        int(event.occurred_at.timestamp() * 1000)
                    ),
                },
                "messageAttributes": {},
                "md5OfBody": hashlib.md5(body.encode(), usedforsecurity=False).hexdigest(),
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:{region}:000000000000:{queue_name}",
                "awsRegion": region,
            }
        ]
    }


def replay_into(
    handler: Handler, events: Iterable[LoggedEvent], *, queue_name: str, region: str = "us-east-1"
) -> list[Outcome]:
    """Invoke the handler once per event, in the order given; never stops at a failure."""
    context = LambdaContext(queue_name.removesuffix("-events") + "-replay")
    outcomes = []
    for event in events:
        try:
            response = handler(sqs_event(event, queue_name, region), context)
        except Exception as exc:  # a handler that raises is itself the bug being shown
            outcomes.append(Outcome(event, failed=True, error=f"{type(exc).__name__}: {exc}"))
            continue
        failures = (response or {}).get("batchItemFailures", [])
        outcomes.append(Outcome(event, failed=bool(failures)))
    return outcomes


def deployed_environment(lambda_client: Any, handler: str) -> dict[str, str] | None:
    """The environment variables of the deployed function whose handler is `handler`."""
    for page in lambda_client.get_paginator("list_functions").paginate():
        for function in page.get("Functions", []):
            if function.get("Handler") == handler:
                variables = (function.get("Environment") or {}).get("Variables") or {}
                return {str(k): str(v) for k, v in variables.items()}
    return None


@contextmanager
def environment(values: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables for the handler's composition root, restore them after."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
