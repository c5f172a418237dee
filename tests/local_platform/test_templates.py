"""What the local platform reads from templates, and what infra/platform.yaml promises."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws
from moto.events.models import EventPattern

from saas_local import moto_gaps, templates
from saas_local import platform as platform_module

from .conftest import FIXTURES, ROOT

PLATFORM = templates.load_template(ROOT / "infra/platform.yaml")
SHOP = templates.load_template(FIXTURES / "shop/template.yaml")


def test_routes_come_from_the_api_events_with_their_authorizer():
    routes = {(r.method, r.path): r for r in templates.routes(SHOP)}

    assert set(routes) == {
        ("GET", "/items/{item_id}"),
        ("PUT", "/items/{item_id}"),
        ("GET", "/public"),
        ("GET", "/broken"),
    }
    guarded = routes[("GET", "/items/{item_id}")]
    assert guarded.function == "EchoFunction"
    assert guarded.stage == "test"
    assert guarded.authorizer.function_arn == {"Fn::ImportValue": "saas-authorizer-function-arn"}
    assert guarded.authorizer.identity_headers == ("Authorization",)
    assert guarded.authorizer.ttl_seconds == 300
    assert routes[("GET", "/public")].authorizer is None


def test_event_sources_come_from_the_translated_event_source_mappings():
    sources = {
        s.function: s for s in templates.event_sources(templates.translate(SHOP, "us-east-1"))
    }

    assert set(sources) == {"OrderEventsFunction", "PoisonFunction", "StreamFunction"}
    queue = sources["OrderEventsFunction"]
    assert (queue.kind, queue.batch_size, queue.report_batch_item_failures) == ("sqs", 10, True)
    assert queue.source_arn == {"Fn::ImportValue": "saas-order-queue-arn"}
    stream = sources["StreamFunction"]
    assert stream.kind == "dynamodb"
    assert stream.maximum_retry_attempts == 1
    assert stream.on_failure == {"Fn::GetAtt": ["StreamFailureQueue", "Arn"]}
    assert json.loads(stream.filters[0]["Pattern"])["eventName"] == ["INSERT"]


def _rules():
    return {
        lid: res["Properties"]
        for lid, res in PLATFORM["Resources"].items()
        if res["Type"] == "AWS::Events::Rule"
    }


def _queues_for(source, detail_type, replay_name=None):
    event = {"source": source, "detail-type": detail_type, "detail": {}}
    if replay_name:
        event["replay-name"] = replay_name
    found = set()
    for rule in _rules().values():
        pattern = rule["EventPattern"]
        if EventPattern(json.dumps(pattern), pattern).matches_event(event):
            found.update(t["Arn"]["Fn::GetAtt"][0] for t in rule["Targets"])
    return found


@pytest.mark.parametrize(
    ("source", "detail_type", "queues"),
    [
        ("saas.product", "StockReserved", {"OrderQueue", "EventLogQueue"}),
        ("saas.product", "StockReservationRejected", {"OrderQueue", "EventLogQueue"}),
        ("saas.product", "StockReleased", {"OrderQueue", "EventLogQueue"}),
        ("saas.product", "ProductCreated", {"EventLogQueue"}),
        ("saas.product", "ProductDeleted", {"EventLogQueue"}),
        ("saas.product", "ProductUpdated", {"EventLogQueue"}),
        ("saas.order", "OrderPlaced", {"ProductQueue", "EventLogQueue"}),
        ("saas.order", "OrderCancelled", {"ProductQueue", "EventLogQueue"}),
        ("saas.order", "OrderConfirmed", {"EventLogQueue"}),
        ("saas.provisioner", "TenantProvisioned", {"TenantQueue", "EventLogQueue"}),
        ("saas.provisioner", "TenantProvisioningFailed", {"TenantQueue", "EventLogQueue"}),
        (
            "saas.provisioner",
            "TenantDeprovisioned",
            {"TenantQueue", "OrderQueue", "ProductQueue", "EventLogQueue"},
        ),
        ("saas.tenant", "TenantRegistered", {"EventLogQueue"}),
        ("other.app", "OrderPlaced", set()),
    ],
)
def test_the_rules_route_each_event_to_its_consumers(source, detail_type, queues):
    assert _queues_for(source, detail_type) == queues


def test_no_live_rule_matches_a_replayed_event():
    assert _queues_for("saas.order", "OrderPlaced", replay_name="replay-1") == set()


def test_every_rule_target_has_a_retry_policy_and_a_dead_letter_queue():
    for rule in _rules().values():
        assert rule["EventBusName"] == "saas"
        for target in rule["Targets"]:
            assert target["RetryPolicy"]["MaximumRetryAttempts"] > 0
            assert target["DeadLetterConfig"]["Arn"]


def test_every_consumer_queue_has_a_dlq_through_its_redrive_policy():
    queues = {
        res["Properties"]["QueueName"]: res["Properties"]
        for res in PLATFORM["Resources"].values()
        if res["Type"] == "AWS::SQS::Queue"
    }
    for service in ("order", "product", "tenant", "event-log"):
        redrive = queues[f"saas-{service}-events"]["RedrivePolicy"]
        dlq = redrive["deadLetterTargetArn"]["Fn::GetAtt"][0]
        assert PLATFORM["Resources"][dlq]["Properties"]["QueueName"] == f"saas-{service}-events-dlq"


def test_the_exports_are_named_as_the_conventions_say():
    exports = {o["Export"]["Name"] for o in PLATFORM["Outputs"].values()}

    assert exports >= {
        "saas-event-bus-name",
        "saas-event-bus-arn",
        "saas-order-queue-arn",
        "saas-product-queue-arn",
        "saas-tenant-queue-arn",
        "saas-tenant-table-name",
        "saas-tenant-table-stream-arn",
        "saas-user-pool-id",
        "saas-user-pool-client-id",
    }


@mock_aws
def test_cognito_is_created_from_the_templates_own_properties():
    cognito = boto3.client("cognito-idp", region_name="us-east-1")

    values = moto_gaps.create_cognito(PLATFORM, cognito)

    pool_id = values["UserPool"]["Ref"]
    pool = cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    assert pool["Name"] == "saas-users"
    assert "custom:tenant_id" in {a["Name"] for a in pool["SchemaAttributes"]}
    groups = cognito.list_groups(UserPoolId=pool_id)["Groups"]
    assert {g["GroupName"] for g in groups} == {"SystemAdmin", "TenantAdmin", "TenantUser"}
    client = cognito.describe_user_pool_client(
        UserPoolId=pool_id, ClientId=values["UserPoolClient"]["Ref"]
    )["UserPoolClient"]
    assert set(client["ExplicitAuthFlows"]) == {
        "ALLOW_USER_PASSWORD_AUTH",
        "ALLOW_REFRESH_TOKEN_AUTH",
    }


def test_references_to_what_moto_cannot_deploy_become_literal_values():
    cfn = templates.translate(SHOP, "us-east-1")
    values = {"UserPool": {"Ref": "pool-1", "Arn": "arn:pool-1"}}
    cfn["Outputs"]["Pool"] = {"Value": {"Fn::Sub": "${UserPool}/${UserPool.Arn}/${!Literal}"}}

    adapted = moto_gaps.adapt_template(cfn, values)

    kinds = {res["Type"] for res in adapted["Resources"].values()}
    assert not any(k.startswith("AWS::ApiGateway::") for k in kinds)
    assert "AWS::Lambda::EventSourceMapping" not in kinds
    assert adapted["Outputs"]["Pool"]["Value"] == {"Fn::Sub": "pool-1/arn:pool-1/${!Literal}"}


def test_a_service_template_gets_its_route_permissions_from_its_own_file(tmp_path):
    # Given the repository's order service, whose template publishes its route permissions
    order = ROOT / "services/order/template.yaml"
    sam = templates.load_template(order)

    [parameter] = platform_module.file_parameters(order, sam)

    # Then the parameter is the service's file, compact, as the stack publishes it in SSM
    source = ROOT / "services/order/src/order_service/entrypoints/permissions.json"
    assert parameter["ParameterKey"] == "RoutePermissions"
    assert json.loads(parameter["ParameterValue"]) == json.loads(source.read_text())
    assert "\n" not in parameter["ParameterValue"]
    # And a template that declares no such parameter gets none, and one without a file fails
    assert platform_module.file_parameters(FIXTURES / "shop/template.yaml", SHOP) == []
    copied = tmp_path / "order" / "template.yaml"
    copied.parent.mkdir()
    copied.write_text(order.read_text())
    with pytest.raises(platform_module.LocalPlatformError, match="RoutePermissions"):
        platform_module.file_parameters(copied, sam)
