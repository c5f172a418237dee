"""Template values resolved against a deployed stack, as CloudFormation resolves a function's
environment (fake CloudFormation answers, no AWS)."""

from __future__ import annotations

import pytest

from saas_local.intrinsics import DeployedStack, UnresolvableValue

TEMPLATE = {
    "Parameters": {"Stage": {"Type": "String", "Default": "dev"}},
    "Resources": {
        "Table": {"Type": "AWS::DynamoDB::Table"},
        "Fn": {"Type": "AWS::Lambda::Function"},
        "Rule": {"Type": "AWS::Events::Rule", "Properties": {"EventBusName": "saas"}},
    },
}


class _Paginator:
    def paginate(self):
        yield {"Exports": [{"Name": "saas-event-bus-name", "Value": "saas"}]}


class _CloudFormation:
    def describe_stack_resources(self, StackName):
        return {
            "StackResources": [
                {"LogicalResourceId": "Table", "PhysicalResourceId": "orders-table"},
                {"LogicalResourceId": "Fn", "PhysicalResourceId": "order-api-fn"},
                {"LogicalResourceId": "Rule", "PhysicalResourceId": "order-rule"},
            ]
        }

    def describe_stacks(self, StackName):
        return {"Stacks": [{"Parameters": []}]}

    def get_paginator(self, name):
        return _Paginator()


def _stack():
    return DeployedStack("saas-order", "eu-west-1", TEMPLATE, lambda service: _CloudFormation())


@pytest.mark.parametrize(
    ("value", "resolved"),
    [
        ({"Ref": "Table"}, "orders-table"),
        ({"Ref": "Stage"}, "dev"),
        ({"Ref": "AWS::Region"}, "eu-west-1"),
        ({"Fn::ImportValue": "saas-event-bus-name"}, "saas"),
        (
            {"Fn::GetAtt": ["Fn", "Arn"]},
            "arn:aws:lambda:eu-west-1:123456789012:function:order-api-fn",
        ),
        ({"Fn::GetAtt": "Rule.Arn"}, "arn:aws:events:eu-west-1:123456789012:rule/saas/order-rule"),
        (
            {"Fn::Sub": "${AWS::StackName}/${Table}/${Stage}/${!Literal}"},
            "saas-order/orders-table/dev/${Literal}",
        ),
        ({"Fn::Sub": ["${Name}-x", {"Name": {"Ref": "Table"}}]}, "orders-table-x"),
        ({"Fn::Join": ["-", [{"Ref": "Stage"}, "a"]]}, "dev-a"),
        ({"Fn::Select": [1, {"Fn::Split": [",", "a,b,c"]}]}, "b"),
        ("plain", "plain"),
    ],
)
def test_values_resolve_as_cloudformation_resolves_them(value, resolved):
    assert _stack().resolve(value) == resolved


@pytest.mark.parametrize(
    "value",
    [
        {"Ref": "Missing"},
        {"Fn::ImportValue": "saas-nothing"},
        {"Fn::GetAtt": ["Fn", "NoSuchAttribute"]},
        {"Fn::If": ["Cond", "a", "b"]},
    ],
)
def test_what_cannot_be_resolved_is_named(value):
    with pytest.raises(UnresolvableValue):
        _stack().resolve(value)
