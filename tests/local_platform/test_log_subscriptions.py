"""Account subscription filter policies, locally (saas_local/log_subscriptions.py): the pattern
shape the templates use is evaluated, any other refused loudly; the selection criteria leave log
groups out; matching lines reach the destination in CloudWatch Logs' event shape, batched per
log group."""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

import pytest

from saas_local.log_subscriptions import (
    FilterPattern,
    LogSubscriptions,
    UnsupportedSubscription,
    subscription_policies,
)

ARN = "arn:aws:lambda:us-east-1:123456789012:function:saas-metering-usage-records"


def _policy(pattern: str = "{ $.usage_version = 1 }", **props: Any) -> dict[str, Any]:
    return {
        "Policy": {
            "Type": "AWS::Logs::AccountPolicy",
            "Properties": {
                "PolicyName": "usage",
                "PolicyType": "SUBSCRIPTION_FILTER_POLICY",
                "Scope": "ALL",
                "PolicyDocument": json.dumps({"DestinationArn": ARN, "FilterPattern": pattern}),
                **props,
            },
        }
    }


def test_the_pattern_matches_a_json_line_whose_field_is_the_number() -> None:
    pattern = FilterPattern.parse("{ $.usage_version = 1 }")
    assert pattern.matches('{"usage_version": 1, "usage": {}}')
    assert pattern.matches('{"usage_version": 1.0}')
    assert not pattern.matches('{"usage_version": 2}')
    assert not pattern.matches('{"usage_version": "1"}')
    assert not pattern.matches('{"usage_version": true}')
    assert not pattern.matches("usage_version = 1")
    assert not pattern.matches('{"usage_version": 1')  # broken JSON


@pytest.mark.parametrize(
    "pattern", ["ERROR", '{ $.level = "ERROR" }', "{ $.a = 1 && $.b = 2 }", "{ $.a.b = 1 }", ""]
)
def test_another_pattern_shape_is_refused_by_name(pattern: str) -> None:
    with pytest.raises(UnsupportedSubscription, match="evaluates only"):
        subscription_policies(_policy(pattern), lambda v: v, "us-east-1")


def test_selection_criteria_other_than_not_in_are_refused() -> None:
    resources = _policy(SelectionCriteria='LogGroupName IN ["/aws/lambda/a"]')
    with pytest.raises(UnsupportedSubscription, match="NOT IN"):
        subscription_policies(resources, lambda v: v, "us-east-1")


def test_matching_lines_are_delivered_in_the_logs_shape_per_log_group_once() -> None:
    (policy,) = subscription_policies(
        _policy(SelectionCriteria='LogGroupName NOT IN ["/aws/lambda/saas-metering"]'),
        lambda v: v,
        "us-east-1",
    )
    invoked: list[tuple[str, Any]] = []
    subscriptions = LogSubscriptions([policy], lambda arn, event: invoked.append((arn, event)))
    try:
        sink = subscriptions.sink("us-east-1")
        sink("/aws/lambda/order", '{"usage_version": 1, "n": 1}')
        sink("/aws/lambda/order", "a plain log line")
        sink("/aws/lambda/order", '{"usage_version": 1, "n": 2}')
        sink("/aws/lambda/product", '{"usage_version": 1, "n": 3}')
        sink("/aws/lambda/saas-metering", '{"usage_version": 1, "n": 4}')  # left out
        subscriptions.offer("eu-west-1", "/aws/lambda/order", '{"usage_version": 1}')  # region
    finally:
        subscriptions.stop()

    bodies = {}
    for arn, event in invoked:
        assert arn == ARN
        body = json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))
        bodies[body["logGroup"]] = body
    assert set(bodies) == {"/aws/lambda/order", "/aws/lambda/product"}
    order = bodies["/aws/lambda/order"]
    assert order["messageType"] == "DATA_MESSAGE"
    assert order["subscriptionFilters"] == ["usage"]
    assert [json.loads(e["message"])["n"] for e in order["logEvents"]] == [1, 2]
    ids = [e["id"] for e in order["logEvents"] + bodies["/aws/lambda/product"]["logEvents"]]
    assert len(set(ids)) == 3
    assert subscriptions.delivered == 3


def test_a_failing_destination_is_retried_twice_then_counted() -> None:
    (policy,) = subscription_policies(_policy(), lambda v: v, "us-east-1")
    calls = []

    def failing(arn: str, event: Any) -> None:
        calls.append(arn)
        raise RuntimeError("down")

    subscriptions = LogSubscriptions([policy], failing)
    subscriptions.offer("us-east-1", "/aws/lambda/order", '{"usage_version": 1}')
    subscriptions.stop()
    assert len(calls) == 3
    assert subscriptions.failed == 1
