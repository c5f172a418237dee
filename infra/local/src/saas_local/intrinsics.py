"""Resolving a template's values (Ref, Fn::GetAtt, Fn::ImportValue, Fn::Sub...) against a stack
deployed in the local platform, as CloudFormation does when it sets a function's environment."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from saas_local.templates import ACCOUNT_ID


class UnresolvableValue(ValueError):
    """A template value the local platform cannot resolve; the message names it."""


class DeployedStack:
    """One deployed stack: its template (as deployed), resources, parameters, and the region's
    exports. `clients` builds boto3 clients for the stack's region."""

    def __init__(self, name: str, region: str, template: Mapping[str, Any], clients: Any) -> None:
        self.name = name
        self.region = region
        self.template = template
        self._clients = clients
        self._physical: dict[str, str] | None = None
        self._parameters: dict[str, str] | None = None
        self._attributes: dict[tuple[str, str], Any] = {}
        self._exports: dict[str, str] | None = None

    # -- what CloudFormation knows about the stack --
    def physical_id(self, logical_id: str) -> str:
        if self._physical is None:
            cfn = self._clients("cloudformation")
            found = cfn.describe_stack_resources(StackName=self.name)["StackResources"]
            self._physical = {
                r["LogicalResourceId"]: r["PhysicalResourceId"]
                for r in found
                if r.get("PhysicalResourceId")
            }
        if logical_id not in self._physical:
            raise UnresolvableValue(f"{self.name}: no deployed resource {logical_id}")
        return self._physical[logical_id]

    def parameter(self, name: str) -> str:
        if self._parameters is None:
            cfn = self._clients("cloudformation")
            stack = cfn.describe_stacks(StackName=self.name)["Stacks"][0]
            self._parameters = {
                p["ParameterKey"]: p["ParameterValue"] for p in stack.get("Parameters", [])
            }
        if name in self._parameters:
            return self._parameters[name]
        default = self.template.get("Parameters", {}).get(name, {}).get("Default")
        if default is None:
            raise UnresolvableValue(f"{self.name}: parameter {name} has no value")
        return str(default)

    def export(self, name: str) -> str:
        # Read once: values are resolved after every stack of the platform is deployed.
        if self._exports is None:
            cfn = self._clients("cloudformation")
            self._exports = {
                export["Name"]: str(export["Value"])
                for page in cfn.get_paginator("list_exports").paginate()
                for export in page["Exports"]
            }
        if name not in self._exports:
            raise UnresolvableValue(f"no export named {name} in {self.region}")
        return self._exports[name]

    # -- intrinsic functions --
    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) != 1:
            return {k: self.resolve(v) for k, v in value.items()}
        ((key, arg),) = value.items()
        if key == "Ref":
            return self.ref(arg)
        if key == "Fn::GetAtt":
            logical, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
            return self.get_att(logical, attribute)
        if key == "Fn::ImportValue":
            return self.export(self.resolve(arg))
        if key == "Fn::Sub":
            return self.sub(arg)
        if key == "Fn::Join":
            separator, items = arg
            return separator.join(str(i) for i in self.resolve(items))
        if key == "Fn::Select":
            index, items = arg
            return self.resolve(items)[int(self.resolve(index))]
        if key == "Fn::Split":
            separator, text = arg
            return str(self.resolve(text)).split(separator)
        if key.startswith("Fn::"):
            raise UnresolvableValue(f"{self.name}: {key} is not supported locally")
        return {key: self.resolve(arg)}

    def ref(self, name: str) -> Any:
        pseudo = {
            "AWS::Region": self.region,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::StackName": self.name,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackId": f"arn:aws:cloudformation:{self.region}:{ACCOUNT_ID}:stack/{self.name}",
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.template.get("Parameters", {}):
            return self.parameter(name)
        resource = self.template.get("Resources", {}).get(name)
        if resource is None:
            raise UnresolvableValue(f"{self.name}: Ref {name} names nothing in the template")
        physical = self.physical_id(name)
        if resource["Type"] == "AWS::SQS::Queue":
            return self._queue_url(physical)
        return physical

    def get_att(self, logical: str, attribute: str) -> Any:
        key = (logical, attribute)
        if key not in self._attributes:
            self._attributes[key] = self._get_att(logical, attribute)
        return self._attributes[key]

    def _get_att(self, logical: str, attribute: str) -> Any:
        resource = self.template.get("Resources", {}).get(logical)
        if resource is None:
            raise UnresolvableValue(f"{self.name}: GetAtt {logical} names nothing in the template")
        kind = resource["Type"]
        physical = self.physical_id(logical)
        arn_prefix = f"arn:aws:{{}}:{self.region}:{ACCOUNT_ID}:"
        if kind == "AWS::SQS::Queue":
            name = physical.rstrip("/").rsplit("/", 1)[-1]
            found = {
                "Arn": arn_prefix.format("sqs") + name,
                "QueueName": name,
                "QueueUrl": self._queue_url(physical),
            }
        elif kind == "AWS::DynamoDB::Table":
            table = self._clients("dynamodb").describe_table(TableName=physical)["Table"]
            found = {"Arn": table["TableArn"], "StreamArn": table.get("LatestStreamArn")}
        elif kind == "AWS::Lambda::Function":
            found = {"Arn": arn_prefix.format("lambda") + f"function:{physical}"}
        elif kind == "AWS::IAM::Role":
            found = {"Arn": self._clients("iam").get_role(RoleName=physical)["Role"]["Arn"]}
        elif kind == "AWS::SNS::Topic":
            found = {"TopicArn": physical, "TopicName": physical.rsplit(":", 1)[-1]}
        elif kind == "AWS::Events::Rule":
            bus = resource.get("Properties", {}).get("EventBusName", "default")
            path = physical if bus == "default" else f"{bus}/{physical}"
            found = {"Arn": arn_prefix.format("events") + f"rule/{path}"}
        else:
            found = {}
        if found.get(attribute) is None:
            raise UnresolvableValue(f"{self.name}: GetAtt {logical}.{attribute} ({kind})")
        return found[attribute]

    def _queue_url(self, physical: str) -> str:
        name = physical.rstrip("/").rsplit("/", 1)[-1]
        return str(self._clients("sqs").get_queue_url(QueueName=name)["QueueUrl"])

    def sub(self, arg: Any) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
        resolved = {k: self.resolve(v) for k, v in variables.items()}

        def one(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in resolved:
                return str(resolved[name])
            if "." in name and not name.startswith("AWS::"):
                logical, attribute = name.split(".", 1)
                return str(self.get_att(logical, attribute))
            return str(self.ref(name))

        return re.sub(r"\$\{([^}]+)\}", one, text)
