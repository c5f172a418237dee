"""The function's trigger in template.yaml keeps the promises the handler relies on, and its
FilterCriteria let through every record the domain acts on and keep away the ones it ignores."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from provisioner_builders import dynamodb_json, tenant_image

from provisioner.domain.changes import Intent, TenantChange

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation's short forms (!Ref, !Sub ...) as plain values."""


_CfnLoader.add_multi_constructor(
    "!",
    lambda loader, suffix, node: (
        loader.construct_sequence(node)
        if isinstance(node, yaml.SequenceNode)
        else loader.construct_mapping(node)
        if isinstance(node, yaml.MappingNode)
        else loader.construct_scalar(node)
    ),
)


@pytest.fixture(scope="module")
def trigger() -> dict[str, Any]:
    template = yaml.load(TEMPLATE.read_text(encoding="utf-8"), Loader=_CfnLoader)
    event = template["Resources"]["StreamFunction"]["Properties"]["Events"]["TenantTable"]
    assert event["Type"] == "DynamoDB"
    return event["Properties"]


def matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    """Lambda event filtering, for the exact-value patterns this template uses."""
    for key, expected in pattern.items():
        if key not in event:
            return False
        if isinstance(expected, dict):
            if not isinstance(event[key], dict) or not matches(expected, event[key]):
                return False
        elif event[key] not in expected:
            return False
    return True


def passes(trigger: dict[str, Any], record: dict[str, Any]) -> bool:
    patterns = [json.loads(f["Pattern"]) for f in trigger["FilterCriteria"]["Filters"]]
    return any(matches(p, record) for p in patterns)


def test_partial_failures_in_order_with_bounded_retries_and_a_place_for_what_gives_up(trigger):
    assert trigger["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert trigger["BisectBatchOnFunctionError"] is False
    assert 0 < trigger["MaximumRetryAttempts"] <= 100
    assert trigger["DestinationConfig"]["OnFailure"]["Type"] == "SQS"
    assert len(trigger["FilterCriteria"]["Filters"]) <= 5  # Lambda's default quota


STATUSES = [
    "PROVISIONING",
    "ACTIVE",
    "PROVISIONING_FAILED",
    "SUSPENDED",
    "OFFBOARDING",
    "OFFBOARDED",
]


def _record(kind: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if old is not None:
        body["OldImage"] = dynamodb_json(old)
    if new is not None:
        body["NewImage"] = dynamodb_json(new)
    return {"eventName": kind, "dynamodb": body}


def _changes():
    yield "INSERT", None, tenant_image(status="PROVISIONING")
    yield "REMOVE", tenant_image(status="ACTIVE"), None
    for before, after in itertools.product(STATUSES, STATUSES):
        for config in ({"theme": "dark"}, {"theme": "light"}):
            yield (
                "MODIFY",
                tenant_image(status=before, config={"theme": "dark"}),
                tenant_image(status=after, config=config),
            )


@pytest.mark.parametrize(("kind", "old", "new"), list(_changes()))
def test_every_change_the_domain_acts_on_reaches_the_function(trigger, kind, old, new):
    intent = TenantChange.from_images("rec", kind, old, new).intent()

    if intent is not Intent.NOTHING:
        assert passes(trigger, _record(kind, old, new))


@pytest.mark.parametrize(
    ("before", "after"),
    [("ACTIVE", "SUSPENDED"), ("SUSPENDED", "SUSPENDED"), ("OFFBOARDING", "OFFBOARDED")],
)
def test_changes_to_a_tenant_that_is_not_live_do_not_wake_the_function(trigger, before, after):
    old = tenant_image(status=before, config={"theme": "dark"})
    new = tenant_image(status=after, config={"theme": "light"})

    assert not passes(trigger, _record("MODIFY", old, new))
