"""CloudWatch Logs subscriptions, locally: a template's account-level subscription filter
policy (`AWS::Logs::AccountPolicy`, PolicyType SUBSCRIPTION_FILTER_POLICY) delivers the matching
log lines of every function to its destination function, as CloudWatch Logs does.

A moto gap (tests/local_platform/test_moto_gaps.py,
`test_an_account_subscription_policy_is_neither_kept_nor_delivered`): moto's CloudFormation
skips the resource, its Logs has no account policies, and its Lambda cannot run our functions.
So the platform reads the policy from the deployed template; each function's worker hands its
log lines to `LogSubscriptions.offer` (workers.FunctionConfig.log_sink), and a delivery thread
invokes the destination with Logs' event: `{"awslogs": {"data": base64(gzip(json))}}` of
{messageType DATA_MESSAGE, owner, logGroup, logStream, subscriptionFilters, logEvents: [{id,
timestamp, message}]}, one log group per delivery, batched (up to MAX_BATCH events or
FLUSH_SECONDS), asynchronously (Logs invokes Lambda with the Event invocation type), retried
twice on failure as Lambda retries an asynchronous invocation.

Only the filter-pattern shape the templates use is evaluated, `{ $.<field> = <number> }` on a
JSON log line; any other pattern is refused loudly at start, never matched approximately. The
selection criteria a subscription filter policy allows, `LogGroupName NOT IN [...]`, are
honoured."""

from __future__ import annotations

import base64
import gzip
import itertools
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from saas_local.templates import ACCOUNT_ID

log = logging.getLogger(__name__)

POLICY_TYPE = "AWS::Logs::AccountPolicy"
MAX_BATCH = 500  # log events per delivery
FLUSH_SECONDS = 0.25
RETRIES = 2  # an asynchronous invocation is retried twice

_PATTERN = re.compile(r"^\{\s*\$\.([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(-?[0-9]+(?:\.[0-9]+)?)\s*\}$")
_SELECTION = re.compile(r"^\s*LogGroupName\s+NOT\s+IN\s+(\[.*\])\s*$", re.DOTALL)


class UnsupportedSubscription(ValueError):
    """A policy the local platform does not evaluate: it says what and why."""


@dataclass(frozen=True)
class FilterPattern:
    """`{ $.field = number }`: a JSON log line whose top-level field equals the number."""

    text: str
    field: str
    value: float

    @classmethod
    def parse(cls, text: str) -> FilterPattern:
        match = _PATTERN.match(text.strip())
        if match is None:
            raise UnsupportedSubscription(
                f"filter pattern {text!r}: the local platform evaluates only "
                "'{ $.<field> = <number> }'"
            )
        return cls(text=text, field=match.group(1), value=float(match.group(2)))

    def matches(self, line: str) -> bool:
        if not line.startswith("{") or f'"{self.field}"' not in line:  # cheap before parsing
            return False
        try:
            found = json.loads(line).get(self.field)
        except (ValueError, AttributeError):
            return False
        return (
            isinstance(found, int | float)
            and not isinstance(found, bool)
            and (float(found) == self.value)
        )


@dataclass(frozen=True)
class SubscriptionPolicy:
    name: str
    destination_arn: str
    pattern: FilterPattern
    region: str
    excluded: frozenset[str] = frozenset()

    def selects(self, region: str, log_group: str) -> bool:
        return region == self.region and log_group not in self.excluded


def _unaliased(node: Any, resources: Mapping[str, Any]) -> Any:
    """References to a function's alias as its ARN: the local platform runs the function's
    one version (a deployment preference is applied at once), as for event sources."""
    if isinstance(node, list):
        return [_unaliased(item, resources) for item in node]
    if not isinstance(node, dict):
        return node
    target = resources.get(str(node.get("Ref", "")), {}) if len(node) == 1 else {}
    if target.get("Type") == "AWS::Lambda::Alias":
        function = target["Properties"]["FunctionName"]
        name = function.get("Ref") if isinstance(function, dict) else function
        return {"Fn::GetAtt": [name, "Arn"]}
    return {key: _unaliased(value, resources) for key, value in node.items()}


def subscription_policies(
    resources: Mapping[str, Any], resolve: Callable[[Any], Any], region: str
) -> list[SubscriptionPolicy]:
    """The subscription filter policies among a stack's resources, resolved (a policy holds
    for the log groups of its own region)."""
    found = []
    for logical_id, resource in resources.items():
        if resource.get("Type") != POLICY_TYPE:
            continue
        props = resource.get("Properties") or {}
        if props.get("PolicyType") != "SUBSCRIPTION_FILTER_POLICY":
            continue
        document = resolve(_unaliased(props["PolicyDocument"], resources))
        document = json.loads(document) if isinstance(document, str) else dict(document)
        if props.get("Scope", "ALL") != "ALL":
            raise UnsupportedSubscription(f"{logical_id}: Scope {props['Scope']!r}")
        if str(document["DestinationArn"]).split(":")[2] != "lambda":
            raise UnsupportedSubscription(f"{logical_id}: only a Lambda destination runs locally")
        excluded: frozenset[str] = frozenset()
        criteria = props.get("SelectionCriteria")
        if criteria:
            match = _SELECTION.match(str(resolve(criteria)))
            if match is None:
                raise UnsupportedSubscription(
                    f"{logical_id}: selection criteria {criteria!r}: only "
                    "'LogGroupName NOT IN [...]' (all a subscription filter policy allows)"
                )
            excluded = frozenset(json.loads(match.group(1)))
        found.append(
            SubscriptionPolicy(
                name=str(props.get("PolicyName") or logical_id),
                destination_arn=str(document["DestinationArn"]),
                pattern=FilterPattern.parse(str(document.get("FilterPattern", ""))),
                region=region,
                excluded=excluded,
            )
        )
    return found


@dataclass
class _Pending:
    events: list[dict[str, Any]] = field(default_factory=list)
    since: float = 0.0


class LogSubscriptions:
    """Delivers matching log lines to each policy's destination; thread-safe."""

    def __init__(
        self,
        policies: list[SubscriptionPolicy],
        invoke: Callable[[str, Any], Any],  # (function ARN, event) -> result
    ) -> None:
        self.policies = policies
        self._invoke = invoke
        self._pending: dict[tuple[int, str], _Pending] = {}
        self._lock = threading.Condition()
        self._ids = itertools.count(1)
        self._stopped = False
        self.delivered = 0  # log events delivered
        self.failed = 0  # deliveries that failed after their retries
        self.last_deliveries: list[dict[str, Any]] = []  # the last 500 bodies, newest last
        self._thread = threading.Thread(target=self._run, name="log-subscriptions", daemon=True)
        if policies:
            self._thread.start()

    def sink(self, region: str) -> Callable[[str, str], None]:
        """What a function of `region` hands its log lines to (workers.FunctionConfig)."""
        return lambda log_group, line: self.offer(region, log_group, line)

    def offer(self, region: str, log_group: str, line: str) -> None:
        """A function's log line: kept for each policy it matches."""
        for index, policy in enumerate(self.policies):
            if not policy.selects(region, log_group) or not policy.pattern.matches(line):
                continue
            now = time.time()
            event = {
                "id": f"{int(now * 1000)}{next(self._ids):020d}",
                "timestamp": int(now * 1000),
                "message": line,
            }
            with self._lock:
                pending = self._pending.setdefault((index, log_group), _Pending(since=now))
                pending.events.append(event)
                self._lock.notify()

    def flush(self) -> None:
        """Deliver everything pending now (tests, stop)."""
        for key, events in self._take(force=True):
            self._deliver(key, events)

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            self._lock.notify()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        self.flush()

    def _take(self, force: bool) -> list[tuple[tuple[int, str], list[dict[str, Any]]]]:
        now = time.time()
        taken = []
        with self._lock:
            for key, pending in list(self._pending.items()):
                due = now - pending.since >= FLUSH_SECONDS or len(pending.events) >= MAX_BATCH
                if force or due:
                    del self._pending[key]
                    for start in range(0, len(pending.events), MAX_BATCH):
                        taken.append((key, pending.events[start : start + MAX_BATCH]))
        return taken

    def _run(self) -> None:
        while True:
            with self._lock:
                if self._stopped:
                    return
                self._lock.wait(FLUSH_SECONDS)
            for key, events in self._take(force=False):
                self._deliver(key, events)

    def _deliver(self, key: tuple[int, str], events: list[dict[str, Any]]) -> None:
        policy = self.policies[key[0]]
        body = {
            "messageType": "DATA_MESSAGE",
            "owner": ACCOUNT_ID,
            "logGroup": key[1],
            "logStream": "local",
            "subscriptionFilters": [policy.name],
            "logEvents": events,
        }
        data = base64.b64encode(gzip.compress(json.dumps(body).encode())).decode()
        for attempt in range(1 + RETRIES):
            try:
                self._invoke(policy.destination_arn, {"awslogs": {"data": data}})
            except Exception as exc:  # the destination failed: retried, then dropped and counted
                log.warning("log delivery to %s failed (%s)", policy.destination_arn, exc)
                if attempt == RETRIES:
                    self.failed += 1
                continue
            self.delivered += len(events)
            self.last_deliveries = [*self.last_deliveries[-499:], body]
            return
