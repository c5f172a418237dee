"""moto's state kept across a restart (saas_local.aws_state): a snapshot of every backend in use,
restored as it was - with the ids moto made at random, Cognito's signing key, and the parts of
moto's models that do not pickle as such (locks, weak indexes, defaultdicts of local lambdas).
Fails when a moto upgrade adds one of those to a backend the platform uses."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.core.base_backend import BackendDict
from moto.server import ThreadedMotoServer

from saas_local import aws_state, cli

REGION = "us-east-1"
PASSWORD = "Passw0rd!state"


@pytest.fixture
def aws() -> Iterator[Any]:
    """moto's server in this process (its backends are this process's, as in aws_server)."""
    BackendDict.reset()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()

    def client(service: str) -> Any:
        return boto3.client(
            service,
            region_name=REGION,
            endpoint_url=f"http://{host}:{port}",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    yield client
    server.stop()
    BackendDict.reset()


def _populate(aws: Any) -> dict[str, Any]:
    """One of each kind of resource the platform's stacks and tenants use."""
    made: dict[str, Any] = {}
    dynamodb = aws("dynamodb")
    dynamodb.create_table(
        TableName="orders",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    dynamodb.put_item(TableName="orders", Item={"pk": {"S": "order-1"}})
    made["stream"] = dynamodb.describe_table(TableName="orders")["Table"]["LatestStreamArn"]
    sqs = aws("sqs")
    made["queue"] = sqs.create_queue(QueueName="work")["QueueUrl"]
    sqs.send_message(QueueUrl=made["queue"], MessageBody="pending")
    cognito = aws("cognito-idp")
    made["pool"] = cognito.create_user_pool(PoolName="users")["UserPool"]["Id"]
    made["client"] = cognito.create_user_pool_client(
        UserPoolId=made["pool"], ClientName="web", ExplicitAuthFlows=["USER_PASSWORD_AUTH"]
    )["UserPoolClient"]["ClientId"]
    cognito.admin_create_user(
        UserPoolId=made["pool"],
        Username="ada",
        TemporaryPassword=PASSWORD,
        MessageAction="SUPPRESS",
    )
    cognito.admin_set_user_password(
        UserPoolId=made["pool"], Username="ada", Password=PASSWORD, Permanent=True
    )
    made["token"] = cognito.initiate_auth(
        ClientId=made["client"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "ada", "PASSWORD": PASSWORD},
    )["AuthenticationResult"]["AccessToken"]
    aws("ssm").put_parameter(Name="/saas/tier", Value="basic", Type="String")
    aws("s3").create_bucket(Bucket="saas-code")
    aws("s3").put_object(Bucket="saas-code", Key="order.zip", Body=b"zip")
    aws("iam").create_role(RoleName="fn", AssumeRolePolicyDocument="{}")
    aws("lambda").create_function(
        FunctionName="relay",
        Runtime="python3.11",
        Role=aws("iam").get_role(RoleName="fn")["Role"]["Arn"],
        Handler="app.handler",
        Code={"S3Bucket": "saas-code", "S3Key": "order.zip"},
    )
    aws("events").create_event_bus(Name="saas")
    queue = {"Type": "AWS::SQS::Queue"}
    aws("cloudformation").create_stack(
        StackName="tenant-1", TemplateBody=json.dumps({"Resources": {"Queue": queue}})
    )
    made["topic"] = aws("sns").create_topic(Name="alerts")["TopicArn"]  # a signing key
    made["kms"] = aws("kms").create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
    made["api_key"] = aws("apigateway").create_api_key(name="tenant-1", enabled=True)["id"]
    return made


def test_a_snapshot_restores_every_resource_with_its_ids(aws: Any, tmp_path: Path) -> None:
    made = _populate(aws)
    written = aws_state.snapshot(tmp_path / "aws.pickle")
    assert written["bytes"] > 0
    assert not list(tmp_path.glob("*.partial"))

    BackendDict.reset()  # moto empty, as a new server process starts
    assert aws("dynamodb").list_tables()["TableNames"] == []
    assert aws_state.restore(tmp_path / "aws.pickle") > 5

    dynamodb, sqs, cognito = aws("dynamodb"), aws("sqs"), aws("cognito-idp")
    assert dynamodb.scan(TableName="orders")["Items"] == [{"pk": {"S": "order-1"}}]
    assert dynamodb.describe_table(TableName="orders")["Table"]["LatestStreamArn"] == made["stream"]
    assert sqs.receive_message(QueueUrl=made["queue"])["Messages"][0]["Body"] == "pending"
    # a token issued before still verifies (the signing key is kept), the password still works
    assert cognito.get_user(AccessToken=made["token"])["Username"] == "ada"
    cognito.initiate_auth(
        ClientId=made["client"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "ada", "PASSWORD": PASSWORD},
    )
    assert aws("ssm").get_parameter(Name="/saas/tier")["Parameter"]["Value"] == "basic"
    assert aws("s3").get_object(Bucket="saas-code", Key="order.zip")["Body"].read() == b"zip"
    assert aws("lambda").get_function(FunctionName="relay")["Configuration"]["Handler"]
    assert aws("events").describe_event_bus(Name="saas")["Name"] == "saas"
    stack = aws("cloudformation").describe_stacks(StackName="tenant-1")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert aws("sns").get_topic_attributes(TopicArn=made["topic"])["Attributes"]
    public = aws("kms").get_public_key(KeyId=made["kms"]["KeyId"])["PublicKey"]
    assert public
    assert aws("apigateway").get_api_key(apiKey=made["api_key"])["name"] == "tenant-1"
    # and the restored state takes new writes
    dynamodb.put_item(TableName="orders", Item={"pk": {"S": "order-2"}})
    assert dynamodb.scan(TableName="orders")["Count"] == 2


def test_a_snapshot_of_another_moto_version_is_refused(aws: Any, tmp_path: Path) -> None:
    import pickle

    path = tmp_path / "aws.pickle"
    path.write_bytes(pickle.dumps({"format": 1, "moto": "0.0.1", "backends": {}}))
    with pytest.raises(aws_state.SnapshotError, match=r"moto 0\.0\.1.*FRESH=1"):
        aws_state.restore(path)
    path.write_bytes(b"not a pickle")
    with pytest.raises(aws_state.SnapshotError, match="not a snapshot"):
        aws_state.restore(path)


def test_the_gate_holds_new_requests_while_a_snapshot_is_taken() -> None:
    gate = aws_state.RequestGate()
    order: list[str] = []

    def request() -> None:
        with gate.shared():
            order.append("request")

    with gate.exclusive():
        thread = threading.Thread(target=request)
        thread.start()
        time.sleep(0.2)
        order.append("snapshot")
    thread.join()
    assert order == ["snapshot", "request"]


def test_the_banner_says_whether_the_data_was_restored() -> None:
    base = {
        "api_url": "http://127.0.0.1:8080",
        "aws_endpoint_url": "http://127.0.0.1:5000",
        "region": REGION,
        "event_bus_name": "saas",
        "user_pool_id": "pool",
        "user_pool_client_id": "client",
    }
    restored = {"kept": True, "dir": "/s", "restored": True, "saved_at": "T", "updated": []}
    fresh = {"kept": True, "dir": "/s", "restored": False}
    assert "data               restored from /s (saved T)" in cli.banner(
        {**base, "state": restored}
    )
    changed = cli.banner({**base, "state": {**restored, "updated": ["saas-order (us-east-1)"]}})
    assert "updated: saas-order (us-east-1)" in changed
    assert "started empty (fresh); kept in /s" in cli.banner({**base, "state": fresh})


def test_fresh_comes_from_the_flag_or_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FRESH", raising=False)
    assert cli._arguments([]).fresh is False
    assert cli._arguments(["--fresh"]).fresh is True
    monkeypatch.setenv("FRESH", "1")
    assert cli._arguments([]).fresh is True
    monkeypatch.setenv("FRESH", "0")
    assert cli._arguments([]).fresh is False


def _pump(aws: Any, stream_arn: str, invoke: Any) -> Any:
    from saas_local.pumps import StreamPump

    return StreamPump(
        name="orders-relay",
        clients=aws,
        stream_arn=stream_arn,
        invoke=invoke,
        function_arn="arn:aws:lambda:us-east-1:123456789012:function:relay",
        batch_size=1,
        report_batch_item_failures=True,
        maximum_retry_attempts=-1,
        retry_backoff=0.01,
    )


def _keys(event: dict[str, Any]) -> list[str]:
    return [r["dynamodb"]["Keys"]["pk"]["S"] for r in event["Records"]]


def test_a_stream_poller_started_again_goes_on_where_it_stood(aws: Any) -> None:
    made = _populate(aws)  # the table holds order-1 already
    dynamodb = aws("dynamodb")
    for key in ("order-2", "order-3"):
        dynamodb.put_item(TableName="orders", Item={"pk": {"S": key}})
    before: list[str] = []

    def fails_at_order_3(event: dict[str, Any]) -> dict[str, Any]:
        if _keys(event) == ["order-3"]:
            return {
                "batchItemFailures": [
                    {"itemIdentifier": event["Records"][0]["dynamodb"]["SequenceNumber"]}
                ]
            }
        before.extend(_keys(event))
        return {"batchItemFailures": []}

    pump = _pump(aws, made["stream"], fails_at_order_3)
    pump.start()
    try:
        deadline = time.monotonic() + 10
        while before != ["order-1", "order-2"] and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.1)  # order-3 failing, retried
    finally:
        pump.signal_stop()
        pump.join()
    positions = pump.positions()
    assert before == ["order-1", "order-2"]
    assert [kind for kind, _ in positions.values()] == ["AT_SEQUENCE_NUMBER"]

    dynamodb.put_item(TableName="orders", Item={"pk": {"S": "order-4"}})  # while it was down
    after: list[str] = []

    def succeeds(event: dict[str, Any]) -> dict[str, Any]:
        after.extend(_keys(event))
        return {"batchItemFailures": []}

    again = _pump(aws, made["stream"], succeeds)
    again.start(positions)
    try:
        deadline = time.monotonic() + 10
        while len(after) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.1)
    finally:
        again.signal_stop()
        again.join()
    # what was done is not delivered again; what was not (and what came meanwhile) is
    assert after == ["order-3", "order-4"]
    assert [kind for kind, _ in again.positions().values()] == ["AFTER_SEQUENCE_NUMBER"]
