"""The provisioner against moto: STS AssumeRole, then CloudFormation in the tenant's region with
the real tenant template; DynamoDB, SSM and EventBridge to see what came out."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from moto import mock_aws
from provisioner_builders import tenant_image

from provisioner.adapters.aws_clients import AwsClients
from provisioner.adapters.cloudformation_tenant_stacks import CloudFormationTenantStacks
from provisioner.adapters.dynamodb_tenant_data_space import DynamoDBTenantDataSpace
from provisioner.adapters.eventbridge_event_publisher import EventBridgeEventPublisher
from provisioner.adapters.memory_clock import MemoryClock
from provisioner.adapters.sts_deployment_sessions import (
    DeploymentRole,
    DeploymentSessions,
    MissingDeploymentRole,
)
from provisioner.adapters.tenant_template import packaged_template_body
from provisioner.app.reconcile import Reconciler
from provisioner.app.stack_waiter import StackWaiter, WaitPolicy
from provisioner.domain.changes import TenantChange
from provisioner.domain.environment import DEFAULT_REGION_MAP, StackRef
from provisioner.domain.tenant import RegionGroup

HOME, EU = "us-east-1", "eu-west-1"
ROLES = {
    "us": DeploymentRole("arn:aws:iam::123456789012:role/saas-tenant-deployer", "ext-us-0001"),
    "eu": DeploymentRole("arn:aws:iam::123456789012:role/saas-tenant-deployer", "ext-eu-0001"),
    "global": DeploymentRole("arn:aws:iam::123456789012:role/saas-tenant-deployer", "ext-gl-01"),
}
FAILING_TEMPLATE = """
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  TenantId: {Type: String}
  Tier: {Type: String}
  Config: {Type: String}
Resources:
  ConfigParameter:
    Type: AWS::SSM::Parameter
    Properties:
      Type: String
      Value: !ImportValue saas-tenant-kms-key-that-does-not-exist
"""


class RecordingSts:
    """The real (moto) STS client, remembering each AssumeRole request."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.requests: list[dict[str, str]] = []

    def assume_role(self, **kwargs: str) -> Any:
        self.requests.append(kwargs)
        return self._client.assume_role(**kwargs)


class Platform:
    def __init__(self, template_body: str | None = None) -> None:
        clients = AwsClients()
        self.sts = RecordingSts(clients.client("sts", HOME))
        sessions = DeploymentSessions(self.sts, ROLES, clients)
        body = template_body or packaged_template_body()
        self.stacks = CloudFormationTenantStacks(sessions, body)
        waiter = StackWaiter(self.stacks, MemoryClock(), WaitPolicy(timeout_seconds=60))
        self.reconciler = Reconciler(
            self.stacks,
            waiter,
            DynamoDBTenantDataSpace(lambda region: clients.client("dynamodb", region)),
            EventBridgeEventPublisher(clients.client("events", HOME), "saas"),
            DEFAULT_REGION_MAP,
            max_attempts=2,
        )
        self.queue_url = _bus_with_queue()

    def handle(self, change: TenantChange) -> Any:
        return self.reconciler.handle(change)

    def events(self) -> list[dict[str, Any]]:
        sqs = boto3.client("sqs", region_name=HOME)
        bodies = []
        while True:
            batch = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10)
            if not batch.get("Messages"):
                return bodies
            for message in batch["Messages"]:
                bodies.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])


def _bus_with_queue() -> str:
    events = boto3.client("events", region_name=HOME)
    sqs = boto3.client("sqs", region_name=HOME)
    events.create_event_bus(Name="saas")
    queue_url = sqs.create_queue(QueueName="provisioner-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    events.put_rule(
        Name="provisioner", EventBusName="saas", EventPattern='{"source": ["saas.provisioner"]}'
    )
    events.put_targets(
        Rule="provisioner",
        EventBusName="saas",
        Targets=[{"Id": "q", "Arn": arn["Attributes"]["QueueArn"]}],
    )
    return queue_url


def live_stacks(region: str) -> list[str]:
    summaries = boto3.client("cloudformation", region_name=region).list_stacks()["StackSummaries"]
    return [s["StackName"] for s in summaries if s["StackStatus"] != "DELETE_COMPLETE"]


def tables(region: str) -> list[str]:
    return boto3.client("dynamodb", region_name=region).list_tables()["TableNames"]


def insert(change_id: str = "rec-1", **kwargs: Any) -> TenantChange:
    return TenantChange.from_images(change_id, "INSERT", None, tenant_image(**kwargs))


@pytest.fixture
def aws(monkeypatch):
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", HOME)
    with mock_aws():
        yield


@pytest.fixture
def platform(aws) -> Platform:
    return Platform()


def test_a_premium_eu_tenant_gets_its_stack_and_own_tables_in_eu_west_1(platform):
    platform.handle(insert(tier="premium", region_group="eu"))

    assert live_stacks(EU) == ["tenant-acme"]
    assert live_stacks(HOME) == []
    assert sorted(tables(EU)) == ["tenant-acme-orders", "tenant-acme-products"]
    table = boto3.client("dynamodb", region_name=EU).describe_table(
        TableName="tenant-acme-products"
    )["Table"]
    assert {(k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]} == {
        ("pk", "HASH"),
        ("sk", "RANGE"),
    }
    [event] = platform.events()
    assert event["detail-type"] == "TenantProvisioned"
    assert event["detail"]["data"]["region"] == EU
    assert event["detail"]["data"]["outputs"]["ProductsTableName"] == "tenant-acme-products"
    assert event["detail"]["metadata"]["tier"] == "premium"
    assert event["detail"]["metadata"]["region_group"] == "eu"
    assert event["detail"]["metadata"]["producer"] == "saas.provisioner"


def test_the_stack_is_made_as_the_region_groups_role_in_a_session_naming_the_tenant(platform):
    platform.handle(insert(region_group="eu"))

    assert platform.sts.requests[0] == {
        "RoleArn": ROLES["eu"].role_arn,
        "RoleSessionName": "provision-acme",
        "ExternalId": "ext-eu-0001",
    }


def test_a_basic_tenant_gets_its_config_but_no_tables(platform):
    platform.handle(insert(tier="basic", region_group="us", config={"plan": "starter"}))

    assert live_stacks(HOME) == ["tenant-acme"]
    assert tables(HOME) == []
    value = boto3.client("ssm", region_name=HOME).get_parameter(Name="/saas/tenant/acme/config")
    assert value["Parameter"]["Value"] == '{"plan":"starter"}'


def test_a_config_change_updates_the_stack(platform):
    platform.handle(insert(config={"theme": "dark"}))
    active = tenant_image(status="ACTIVE", config={"theme": "dark"})

    platform.handle(
        TenantChange.from_images(
            "rec-2", "MODIFY", active, {**active, "config": {"theme": "light"}}
        )
    )

    stack = boto3.client("cloudformation", region_name=EU).describe_stacks(StackName="tenant-acme")[
        "Stacks"
    ][0]
    assert stack["StackStatus"] == "UPDATE_COMPLETE"
    assert {"ParameterKey": "Config", "ParameterValue": '{"theme":"light"}'} in stack["Parameters"]
    value = boto3.client("ssm", region_name=EU).get_parameter(Name="/saas/tenant/acme/config")
    assert value["Parameter"]["Value"] == '{"theme":"light"}'


def test_offboarding_deletes_the_stack_and_its_tables(platform):
    platform.handle(insert())
    active = tenant_image(status="ACTIVE")

    platform.handle(
        TenantChange.from_images("rec-2", "MODIFY", active, {**active, "status": "OFFBOARDING"})
    )

    assert live_stacks(EU) == []
    assert tables(EU) == []
    assert [e["detail-type"] for e in platform.events()] == [
        "TenantProvisioned",
        "TenantDeprovisioned",
    ]


def test_a_template_that_fails_to_deploy_yields_provisioning_failed_with_the_reason(aws):
    platform = Platform(template_body=FAILING_TEMPLATE)

    platform.handle(insert())

    [event] = platform.events()
    assert event["detail-type"] == "TenantProvisioningFailed"
    assert event["detail"]["data"] == {
        "tenant_id": "acme",
        "reason": "No export named saas-tenant-kms-key-that-does-not-exist found.",
    }
    assert live_stacks(EU) == []


def test_duplicate_and_replayed_records_leave_exactly_one_stack(platform):
    active = tenant_image(status="ACTIVE", config={"theme": "dark"})
    history = [
        insert(change_id="r1", config={"theme": "dark"}),
        insert(change_id="r1", config={"theme": "dark"}),  # the same record, delivered twice
        TenantChange.from_images("r2", "MODIFY", active, {**active, "config": {"theme": "blue"}}),
    ]

    for change in history + history:  # ... and the whole history replayed
        platform.handle(change)

    assert live_stacks(EU) == ["tenant-acme"]
    value = boto3.client("ssm", region_name=EU).get_parameter(Name="/saas/tenant/acme/config")
    assert value["Parameter"]["Value"] == '{"theme":"blue"}'
    event_ids = {e["detail"]["metadata"]["event_id"] for e in platform.events()}
    assert len(event_ids) == 2  # one per distinct record: consumers drop the repeats


def test_a_region_group_without_a_deployment_role_is_refused(aws):
    sessions = DeploymentSessions(
        boto3.client("sts", region_name=HOME), {"us": ROLES["us"]}, AwsClients()
    )

    with pytest.raises(MissingDeploymentRole, match="'eu'"):
        sessions.cloudformation(StackRef("acme", RegionGroup.EU, EU))


def test_moto_gap_a_refused_create_leaves_a_stack_stuck_in_progress(aws):
    """Real CloudFormation creates nothing when it refuses a template; moto keeps a stack in
    CREATE_IN_PROGRESS. The reconciler deletes it after a refusal; this fails when moto changes."""
    cloudformation = boto3.client("cloudformation", region_name=EU)

    with pytest.raises(cloudformation.exceptions.ClientError, match="No export named"):
        cloudformation.create_stack(
            StackName="tenant-ghost",
            TemplateBody=FAILING_TEMPLATE,
            Parameters=[
                {"ParameterKey": key, "ParameterValue": "x"}
                for key in ("TenantId", "Tier", "Config")
            ],
        )

    [stack] = cloudformation.describe_stacks(StackName="tenant-ghost")["Stacks"]
    assert stack["StackStatus"] == "CREATE_IN_PROGRESS"


def test_moto_gap_ssm_parameter_tags_as_cloudformation_writes_them_break_create_stack(aws):
    """CloudFormation takes AWS::SSM::Parameter Tags as a map; moto expects a list and fails, so
    the tenant template tags the stack instead. This fails when moto changes."""
    cloudformation = boto3.client("cloudformation", region_name=EU)
    template = {
        "Resources": {
            "Config": {
                "Type": "AWS::SSM::Parameter",
                "Properties": {
                    "Name": "/saas/tenant/x/config",
                    "Type": "String",
                    "Value": "{}",
                    "Tags": {"saas:tenant-id": "x"},
                },
            }
        }
    }

    with pytest.raises(TypeError):
        cloudformation.create_stack(StackName="tenant-tags", TemplateBody=json.dumps(template))
