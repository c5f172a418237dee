"""The local platform running the real platform template and two fixture services: HTTP through
gateway, authorizer and handler; events through bus, rule, queue and consumer; stream records
through filters, partial failures, retries and the on-failure destination."""

from __future__ import annotations

import json

import jwt
import pytest

from .conftest import stack_output

pytestmark = pytest.mark.slow

# Cold starts on a loaded 2-core runner take seconds; waits end as soon as the condition holds.
WAIT = 90


def _item(platform, pk):
    found = platform.client("dynamodb").scan(
        TableName=platform.platform.stacks[-1].deployed.physical_id("ShopTable"),
        ScanFilter={"pk": {"AttributeValueList": [{"S": pk}], "ComparisonOperator": "EQ"}},
    )["Items"]
    return found[0] if found else None


def test_a_request_goes_through_gateway_authorizer_and_handler(shop_platform):
    # When a caller the authorizer allows asks for an item
    response = shop_platform.api(
        "GET", "/items/42?tag=a&tag=b", headers={"Authorization": "Bearer allow:t1"}
    )
    # Then the handler got API Gateway's REST proxy event
    assert response.status == 200
    echoed = response.json()
    event = echoed["event"]
    assert event["resource"] == "/items/{item_id}"
    assert event["path"] == "/items/42"
    assert event["httpMethod"] == "GET"
    assert event["pathParameters"] == {"item_id": "42"}
    assert event["queryStringParameters"] == {"tag": "b"}
    assert event["multiValueQueryStringParameters"] == {"tag": ["a", "b"]}
    assert event["headers"]["Authorization"] == "Bearer allow:t1"
    assert event["body"] is None
    assert event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["resourcePath"] == "/items/{item_id}"
    assert context["httpMethod"] == "GET"
    assert context["stage"] == "test"
    assert context["requestId"]
    assert context["identity"]["sourceIp"] == "127.0.0.1"
    # And the authorizer's context and principal
    assert context["authorizer"]["tenant_id"] == "t1"
    assert context["authorizer"]["principalId"] == "user-of-t1"
    # And the response's multi-value headers
    assert response.headers["X-Echo"] in ("one, two", "one")


def test_the_function_environment_is_resolved_from_the_deployed_stack(shop_platform):
    response = shop_platform.api("GET", "/public")

    environment = response.json()["environment"]
    table = shop_platform.platform.stacks[-1].deployed.physical_id("ShopTable")
    assert environment["TABLE_NAME"] == table
    assert environment["BUS_ARN"] == "arn:aws:events:us-east-1:123456789012:event-bus/saas"
    assert environment["QUEUE_URL"].startswith(shop_platform.aws_endpoint_url)
    assert environment["SUBBED"].startswith(f"us-east-1/{table}/")
    assert environment["AWS_ENDPOINT_URL"] == shop_platform.aws_endpoint_url
    assert response.json()["event"]["requestContext"].get("authorizer") is None


@pytest.mark.parametrize(
    ("method", "token", "status", "message"),
    [
        ("GET", None, 401, "Unauthorized"),
        ("GET", "Bearer nonsense:t1", 401, "Unauthorized"),
        ("GET", "Bearer deny:t1", 403, "explicit deny"),
        ("PUT", "Bearer get-only:t1", 403, "not authorized"),
        ("GET", "Bearer get-only:t1", 200, None),
    ],
)
def test_the_authorizer_decides(shop_platform, method, token, status, message):
    headers = {"Authorization": token} if token else {}

    response = shop_platform.api(method, "/items/1", headers=headers)

    assert response.status == status
    if message:
        assert message in response.json()["message"]


def test_the_authorizer_answer_is_cached_per_token(shop_platform):
    def calls(token):
        response = shop_platform.api("GET", "/items/1", headers={"Authorization": token})
        return response.json()["event"]["requestContext"]["authorizer"]["calls"]

    first = calls("Bearer allow:cache-a")

    assert calls("Bearer allow:cache-a") == first
    assert calls("Bearer allow:cache-b") != first


def test_unknown_routes_and_methods_answer_as_api_gateway(shop_platform):
    assert shop_platform.api("GET", "/nowhere").status == 404
    wrong_method = shop_platform.api("DELETE", "/public")
    assert wrong_method.status == 403
    assert wrong_method.json() == {"message": "Missing Authentication Token"}


@pytest.mark.parametrize("method", ["TRACE", "QUERY", "FOO"])
def test_a_method_no_route_declares_is_api_gateways_403_not_a_501(shop_platform, method):
    response = shop_platform.api(method, "/public")
    assert response.status == 403
    assert response.json() == {"message": "Missing Authentication Token"}


def test_a_malformed_handler_response_is_a_502(shop_platform):
    response = shop_platform.api("GET", "/broken", headers={"Authorization": "Bearer allow:t"})

    assert response.status == 502
    assert response.json() == {"message": "Internal server error"}


def test_an_event_on_the_bus_reaches_the_consumer_through_rule_and_queue(shop_platform):
    # When the product service's StockReserved is put on the bus
    shop_platform.client("events").put_events(
        Entries=[
            {
                "EventBusName": "saas",
                "Source": "saas.product",
                "DetailType": "StockReserved",
                "Detail": json.dumps({"key": "bus-1"}),
            }
        ]
    )
    # Then the order queue's consumer gets it as an SQS record of the EventBridge event
    item = shop_platform.wait_until(lambda: _item(shop_platform, "EVENT#bus-1"), timeout=WAIT)
    record = json.loads(item["record"]["S"])
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"].endswith(":saas-order-events")
    body = json.loads(record["body"])
    assert body["detail-type"] == "StockReserved"
    assert body["account"] == "123456789012"


def test_a_failing_message_reaches_its_dlq_and_the_others_are_done(shop_platform):
    sqs = shop_platform.client("sqs")
    queue = shop_platform.platform.stacks[-1].deployed.ref("PoisonQueue")
    dlq = stack_output(shop_platform, "saas-shop", "PoisonDeadLetterQueueUrl")

    sqs.send_message(QueueUrl=queue, MessageBody="fine")
    sqs.send_message(QueueUrl=queue, MessageBody="poison")

    assert shop_platform.wait_until(lambda: _item(shop_platform, "OK#fine"), timeout=WAIT)

    def dead_letters():
        return sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=1).get("Messages")

    [dead] = shop_platform.wait_until(dead_letters, timeout=WAIT)
    assert dead["Body"] == "poison"


def test_stream_records_are_filtered_retried_and_sent_to_the_destination(shop_platform):
    dynamodb = shop_platform.client("dynamodb")
    table = shop_platform.platform.stacks[-1].deployed.physical_id("ShopTable")
    # Given records the filter drops, and a batch where the second record keeps failing (written
    # in one transaction: put one by one, a poll between two puts could split the batch)
    records = [("OTHER#1", False), ("OUT#1", False), ("OUT#2", True), ("OUT#3", False)]
    dynamodb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": table, "Item": {"pk": {"S": pk}, "fail": {"BOOL": fail}}}}
            for pk, fail in records
        ]
    )
    dynamodb.update_item(
        TableName=table,
        Key={"pk": {"S": "OUT#1"}},
        UpdateExpression="SET touched = :t",
        ExpressionAttributeValues={":t": {"BOOL": True}},
    )
    # Then the first record is done, the failed part of the batch goes to the destination
    failures = stack_output(shop_platform, "saas-shop", "StreamFailureQueueUrl")
    sqs = shop_platform.client("sqs")
    [failure] = shop_platform.wait_until(
        lambda: sqs.receive_message(QueueUrl=failures, WaitTimeSeconds=1).get("Messages"),
        timeout=WAIT,
    )
    info = json.loads(failure["Body"])
    assert info["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert info["requestContext"]["approximateInvokeCount"] == 2
    assert info["DDBStreamBatchInfo"]["batchSize"] == 2
    seen_1 = json.loads(_item(shop_platform, "SEEN#OUT#1")["record"]["S"])
    assert seen_1["eventName"] == "INSERT"
    assert seen_1["eventSource"] == "aws:dynamodb"
    # And the shard moves on: a later record is processed, the filtered ones never were
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "OUT#4"}})
    assert shop_platform.wait_until(lambda: _item(shop_platform, "SEEN#OUT#4"), timeout=WAIT)
    assert _item(shop_platform, "SEEN#OTHER#1") is None
    assert _item(shop_platform, "SEEN#OUT#3") is None


def test_users_log_in_with_their_group_and_tenant_in_the_token(shop_platform):
    # Given a tenant admin, and a user who still has a temporary password
    shop_platform.create_user("alice", "Passw0rd-Alice-1", "TenantAdmin", tenant_id="t-1")
    shop_platform.client("cognito-idp").admin_create_user(
        UserPoolId=shop_platform.user_pool_id,
        Username="bob",
        TemporaryPassword="Temp-Passw0rd-1",
        MessageAction="SUPPRESS",
    )
    # When they log in (bob setting his new password)
    alice = jwt.decode(
        shop_platform.login("alice", "Passw0rd-Alice-1"), options={"verify_signature": False}
    )
    bob = jwt.decode(
        shop_platform.login("bob", "Temp-Passw0rd-1", new_password="New-Passw0rd-Bob-1"),
        options={"verify_signature": False},
    )
    admin = jwt.decode(
        shop_platform.login(*shop_platform.system_admin), options={"verify_signature": False}
    )
    # Then their ID tokens carry what the authorizer reads
    assert alice["custom:tenant_id"] == "t-1"
    assert alice["cognito:groups"] == ["TenantAdmin"]
    assert alice["token_use"] == "id"
    assert bob["cognito:username"] == "bob"
    assert admin["cognito:groups"] == ["SystemAdmin"]
    assert "custom:tenant_id" not in admin
