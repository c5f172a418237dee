"""Where messages go when they cannot be processed, read from the templates (nothing else lists
them, so a new queue or destination is known as soon as its template declares it):

- `sqs`: a consumer queue's DLQ (a queue's RedrivePolicy). Messages go back to the source queue.
- `stream`: a stream event source's on-failure destination (the outbox relays' failure queues,
  the provisioner's DLQ). Messages name a batch's position in the stream, or carry a record with
  its reason; redriving invokes the function with the records again.
- `rule-target`: an EventBridge rule target's DLQ. Messages are events the bus could not deliver;
  they go back to the target named in the message (TARGET_ARN), which is one of these queues.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Kind = Literal["sqs", "stream", "rule-target"]


@dataclass(frozen=True)
class Destination:
    """One dead-letter queue or failure destination: its queue name, what feeds it, and where its
    messages are processed."""

    queue: str
    kind: Kind
    template: str  # the template that declares what feeds it (e.g. services/order/template.yaml)
    # sqs: the source queues (one, in this repository); rule-target: the targets' queues
    sources: tuple[str, ...] = ()
    # stream: the function (logical id) and its stack, and the function's event filters
    function: str | None = None
    stack: str | None = None
    filters: tuple[Mapping[str, Any], ...] = field(default_factory=tuple)

    def describe(self) -> str:
        if self.kind == "sqs":
            return f"{self.queue}  (sqs DLQ of {', '.join(self.sources)}; {self.template})"
        if self.kind == "stream":
            return (
                f"{self.queue}  (stream on-failure destination of {self.stack}/{self.function}; "
                f"{self.template})"
            )
        return f"{self.queue}  (rule targets' DLQ: {', '.join(self.sources)}; {self.template})"


def _queue_names(resources: Mapping[str, Any]) -> dict[str, str]:
    """logical id -> QueueName of every queue with a literal name."""
    return {
        logical: str(resource["Properties"]["QueueName"])
        for logical, resource in resources.items()
        if resource.get("Type") == "AWS::SQS::Queue"
        and isinstance((resource.get("Properties") or {}).get("QueueName"), str)
    }


def _referenced(value: Any, names: Mapping[str, str]) -> str | None:
    """The queue name an `!GetAtt Q.Arn` / `!Ref Q` / literal ARN points at."""
    if isinstance(value, Mapping):
        if "Fn::GetAtt" in value:
            target = value["Fn::GetAtt"]
            logical = target[0] if isinstance(target, list) else str(target).split(".")[0]
            return names.get(logical)
        if "Ref" in value:
            return names.get(str(value["Ref"]))
        return None
    if isinstance(value, str) and value.startswith("arn:"):
        return value.rsplit(":", 1)[-1]
    return None


def from_template(path: Path, root: Path) -> list[Destination]:
    from saas_local.templates import load_template  # the workspace's CloudFormation reader

    template = load_template(path)
    resources: Mapping[str, Any] = template.get("Resources") or {}
    names = _queue_names(resources)
    relative = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
    stack = f"saas-{path.parent.name}" if path.name == "template.yaml" else "saas-platform"
    found: dict[str, Destination] = {}
    rule_targets: dict[str, set[str]] = {}
    for logical, resource in resources.items():
        kind, props = resource.get("Type"), resource.get("Properties") or {}
        if kind == "AWS::SQS::Queue" and props.get("RedrivePolicy"):
            policy = props["RedrivePolicy"]
            dlq = _referenced(policy.get("deadLetterTargetArn"), names)
            source = names.get(logical)
            if dlq and source:
                earlier = found.get(dlq)
                sources = (*(earlier.sources if earlier else ()), source)
                found[dlq] = Destination(dlq, "sqs", relative, sources=sources)
        elif kind == "AWS::Events::Rule":
            for target in props.get("Targets") or []:
                dlq = _referenced((target.get("DeadLetterConfig") or {}).get("Arn"), names)
                queue = _referenced(target.get("Arn"), names)
                if dlq:
                    rule_targets.setdefault(dlq, set()).update({queue} if queue else set())
        elif kind == "AWS::Serverless::Function":
            for event in (props.get("Events") or {}).values():
                event_props = event.get("Properties") or {}
                if event.get("Type") not in ("DynamoDB", "Kinesis"):
                    continue
                on_failure = (event_props.get("DestinationConfig") or {}).get("OnFailure") or {}
                dlq = _referenced(on_failure.get("Destination"), names)
                if dlq:
                    filters = tuple((event_props.get("FilterCriteria") or {}).get("Filters") or ())
                    found[dlq] = Destination(
                        dlq, "stream", relative, function=logical, stack=stack, filters=filters
                    )
    for dlq, queues in rule_targets.items():
        found[dlq] = Destination(dlq, "rule-target", relative, sources=tuple(sorted(queues)))
    return list(found.values())


def templates_of(root: Path) -> list[Path]:
    """The platform stack's template and every service's, as the local platform deploys them."""
    return [root / "infra" / "platform.yaml", *sorted((root / "services").glob("*/template.yaml"))]


def destinations(root: Path, paths: Iterable[Path] | None = None) -> list[Destination]:
    found: list[Destination] = []
    for path in paths if paths is not None else templates_of(root):
        if path.is_file():
            found += from_template(path, root)
    return sorted(found, key=lambda d: d.queue)


def find(found: Sequence[Destination], queue: str) -> Destination:
    for destination in found:
        if destination.queue == queue:
            return destination
    known = ", ".join(d.queue for d in found)
    raise LookupError(f"no template declares a dead-letter queue {queue!r} (known: {known})")


def as_json(found: Sequence[Destination]) -> str:
    return json.dumps(
        [
            {
                "queue": d.queue,
                "kind": d.kind,
                "template": d.template,
                "sources": list(d.sources),
                "function": d.function,
                "stack": d.stack,
            }
            for d in found
        ],
        indent=2,
    )
