"""The AWS APIs' faults (saas_local/faults_aws.py), decided in moto's server process: each kind
answers as AWS does (status, code, message, shape), botocore retries it or not as it does
against AWS, what a failed request would have written is not written, the seed repeats the same
hits, a plan turned off stops them, and `set_faults()["counts"]` counts what was injected."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from saas_local.faults import FaultPlan
from saas_local.testing import start_platform
from saas_local.workers import FunctionRuntime

from .conftest import ROOT

# the SDK's default retry policy (legacy mode) with fewer attempts, so that a share of 1 surfaces
# in a second or two instead of botocore's full backoff (DynamoDB's default is 10 attempts)
THREE_ATTEMPTS = Config(retries={"total_max_attempts": 3, "mode": "legacy"})


def _client(platform: Any, service: str, config: Config | None = None) -> Any:
    """A plain boto3 client on the platform's moto server (the SDK's own retry policy), and the
    list of the HTTP attempts it makes."""
    client = boto3.client(
        service,
        region_name=platform.region,
        endpoint_url=platform.aws_endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=config,
    )
    attempts: list[str] = []
    client.meta.events.register(
        f"before-send.{client.meta.service_model.endpoint_prefix}",
        lambda request, **_: attempts.append(request.url),
    )
    client.attempts = attempts
    return client


def _plan(seed: int, *rules: dict[str, Any]) -> FaultPlan:
    return FaultPlan.from_json({"seed": seed, "faults": list(rules)})


@pytest.fixture
def faults(shop_platform: Any) -> Iterator[Any]:
    """Switch plans on the shop platform; faults are off again afterwards, whatever happens."""
    platform = shop_platform.platform
    try:
        yield platform
    finally:
        platform.set_faults(FaultPlan())


def _moto_counts(platform: Any) -> dict[str, int]:
    from saas_local.faults import tell_moto

    return dict(tell_moto(platform.aws_endpoint_url)["counts"])


# --- EventBridge -------------------------------------------------------------------------------


@pytest.fixture
def bus(shop_platform: Any, request: pytest.FixtureRequest) -> tuple[str, str]:
    """A bus of its own whose rule sends every event to a queue nothing else reads. Its name is
    the test's (hashed): the calls a plan hits are drawn from the seed and the call's labels, the
    bus among them, so a run repeats the draws of the last."""
    name = f"faults-{hashlib.sha256(request.node.name.encode()).hexdigest()[:8]}"
    events, sqs = shop_platform.client("events"), shop_platform.client("sqs")
    events.create_event_bus(Name=name)
    queue_url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    events.put_rule(Name=name, EventBusName=name, EventPattern=json.dumps({"source": ["t"]}))
    events.put_targets(
        Rule=name,
        EventBusName=name,
        Targets=[{"Id": "q", "Arn": arn["Attributes"]["QueueArn"]}],
    )
    return name, queue_url


def _entries(bus: str, count: int, start: int = 0) -> list[dict[str, str]]:
    return [
        {"EventBusName": bus, "Source": "t", "DetailType": "n", "Detail": json.dumps({"n": n})}
        for n in range(start, start + count)
    ]


def _delivered(sqs: Any, queue_url: str) -> list[int]:
    numbers: list[int] = []
    for _ in range(10):
        got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        messages = got.get("Messages", [])
        if not messages:
            break
        for message in messages:
            numbers.append(json.loads(message["Body"])["detail"]["n"])
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return sorted(numbers)


def test_put_events_fails_the_hit_entries_inside_a_200_and_does_not_put_them_on_the_bus(
    shop_platform, faults, bus
):
    name, queue_url = bus
    plan = _plan(5, {"kind": "eventbridge.entry_failure", "share": 0.4, "bus": name})
    events = _client(shop_platform, "events")

    faults.set_faults(plan)
    answer = events.put_events(Entries=_entries(name, 10))

    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert len(events.attempts) == 1  # a partial failure is an answer, not retried by the SDK
    failed = [n for n, entry in enumerate(answer["Entries"]) if "ErrorCode" in entry]
    assert 0 < len(failed) < 10
    assert answer["FailedEntryCount"] == len(failed)
    for n, entry in enumerate(answer["Entries"]):
        if n in failed:
            assert entry == {"ErrorCode": "InternalFailure", "ErrorMessage": "Internal Failure"}
        else:
            assert set(entry) == {"EventId"}
    time.sleep(0.5)
    assert _delivered(shop_platform.client("sqs"), queue_url) == [
        n for n in range(10) if n not in failed
    ]
    assert faults.set_faults()["counts"]["eventbridge.entry_failure"] == len(failed)

    # the same seed hits the same entries; another bus is not selected
    faults.set_faults(plan)
    again = events.put_events(Entries=_entries(name, 10))
    assert [n for n, e in enumerate(again["Entries"]) if "ErrorCode" in e] == failed
    assert events.put_events(Entries=_entries("saas", 3))["FailedEntryCount"] == 0

    # a rule's code is the entries' ErrorCode; every entry hit: nothing reaches the bus
    faults.set_faults(
        _plan(5, {"kind": "eventbridge.entry_failure", "share": 1, "code": "ThrottlingException"})
    )
    _delivered(shop_platform.client("sqs"), queue_url)
    refused = events.put_events(Entries=_entries(name, 2))
    assert refused["FailedEntryCount"] == 2
    assert {e["ErrorCode"] for e in refused["Entries"]} == {"ThrottlingException"}

    faults.set_faults(FaultPlan())
    assert events.put_events(Entries=_entries(name, 4, start=20))["FailedEntryCount"] == 0
    time.sleep(0.5)
    assert _delivered(shop_platform.client("sqs"), queue_url) == [20, 21, 22, 23]


def test_put_events_throttled_is_retried_by_the_sdk_and_surfaces_when_it_persists(
    shop_platform, faults, bus
):
    name, queue_url = bus
    # Seed 1 throttles 4 of the attempts, none 3 times in a row (seed 2 would: a run repeats it)
    faults.set_faults(_plan(1, {"kind": "eventbridge.throttle", "share": 0.3}))
    events = _client(shop_platform, "events")  # botocore's default: standard mode, 3 attempts
    for n in range(10):
        assert events.put_events(Entries=_entries(name, 1, start=n))["FailedEntryCount"] == 0
    retried = len(events.attempts) - 10
    assert retried > 0  # some calls were throttled and retried, none surfaced
    assert faults.set_faults()["counts"]["eventbridge.throttle"] == retried
    time.sleep(0.5)
    assert _delivered(shop_platform.client("sqs"), queue_url) == list(range(10))

    faults.set_faults(_plan(2, {"kind": "eventbridge.throttle", "share": 1, "bus": name}))
    events = _client(shop_platform, "events", THREE_ATTEMPTS)
    with pytest.raises(ClientError) as caught:
        events.put_events(Entries=_entries(name, 1, start=99))
    error = caught.value.response
    assert error["Error"] == {"Code": "ThrottlingException", "Message": "Rate exceeded"}
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["ResponseMetadata"]["RetryAttempts"] == 2
    assert len(events.attempts) == 3
    time.sleep(0.3)
    assert _delivered(shop_platform.client("sqs"), queue_url) == []  # a throttled call puts nothing

    faults.set_faults(FaultPlan())
    assert events.put_events(Entries=_entries(name, 1, start=7))["FailedEntryCount"] == 0
    assert len(events.attempts) == 4


# --- DynamoDB ----------------------------------------------------------------------------------


@pytest.fixture
def tables(shop_platform: Any, request: pytest.FixtureRequest) -> tuple[str, str]:
    # Named after the test, not at random: a rule's draws are keyed on the call's labels, the
    # table among them, so the seeded plan hits the same calls in every run.
    test = hashlib.sha256(request.node.name.encode()).hexdigest()[:6]
    dynamodb = shop_platform.client("dynamodb")
    names = (f"faults-a-{test}", f"faults-b-{test}")
    for name in names:
        dynamodb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    return names


def _item(pk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}}


def _stored(platform: Any, table: str) -> list[str]:
    items = platform.client("dynamodb").scan(TableName=table)["Items"]
    return sorted(item["pk"]["S"] for item in items)


def test_dynamodb_throttling_is_retried_by_the_sdk_and_writes_nothing_when_it_surfaces(
    shop_platform, faults, tables
):
    table, other = tables
    rule = {"kind": "dynamodb.throttle", "share": 0.3, "table": "faults-a-*"}
    faults.set_faults(_plan(4, {**rule, "operation": "PutItem"}))
    dynamodb = _client(shop_platform, "dynamodb")  # botocore's default: 4 attempts here
    for n in range(10):
        dynamodb.put_item(TableName=table, Item=_item(f"p{n}"))
    retried = len(dynamodb.attempts) - 10
    assert retried > 0
    assert faults.set_faults()["counts"]["dynamodb.throttle"] == retried
    assert _stored(shop_platform, table) == [f"p{n}" for n in range(10)]

    faults.set_faults(_plan(4, {**rule, "share": 1}))
    dynamodb = _client(shop_platform, "dynamodb", THREE_ATTEMPTS)
    with pytest.raises(ClientError) as caught:
        dynamodb.put_item(TableName=table, Item=_item("lost"))
    error = caught.value.response
    assert error["Error"]["Code"] == "ThrottlingException"
    assert error["Error"]["Message"].startswith("Throughput exceeds the current capacity")
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert len(dynamodb.attempts) == 3
    dynamodb.put_item(TableName=other, Item=_item("b"))  # another table is not selected
    assert len(dynamodb.attempts) == 4

    code = "ProvisionedThroughputExceededException"
    faults.set_faults(_plan(4, {**rule, "share": 1, "operation": "Query", "code": code}))
    with pytest.raises(ClientError) as caught:
        dynamodb.query(
            TableName=table,
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": "p1"}},
        )
    assert caught.value.response["Error"]["Code"] == code
    assert caught.value.response["Error"]["Message"].startswith("The level of configured")
    dynamodb.put_item(TableName=table, Item=_item("kept"))  # PutItem is not selected

    faults.set_faults(FaultPlan())
    assert _stored(shop_platform, table) == sorted([*(f"p{n}" for n in range(10)), "kept"])


def test_a_transaction_conflict_cancels_the_transaction_naming_the_hit_item_and_writes_nothing(
    shop_platform, faults, tables
):
    table, other = tables
    dynamodb = _client(shop_platform, "dynamodb")
    items = [
        {"Put": {"TableName": table, "Item": _item("t1")}},
        {"Put": {"TableName": other, "Item": _item("t2")}},
        {
            "Update": {
                "TableName": other,
                "Key": _item("t3"),
                "UpdateExpression": "SET v = :v",
                "ExpressionAttributeValues": {":v": {"N": "1"}},
            }
        },
    ]
    faults.set_faults(
        _plan(1, {"kind": "dynamodb.transaction_conflict", "share": 1, "table": "faults-b-*"})
    )
    with pytest.raises(ClientError) as caught:
        dynamodb.transact_write_items(TransactItems=items)
    error = caught.value.response
    assert error["Error"]["Code"] == "TransactionCanceledException"
    assert error["Error"]["Message"] == (
        "Transaction cancelled, please refer cancellation reasons for specific reasons "
        "[None, TransactionConflict, None]"
    )
    assert error["CancellationReasons"] == [
        {"Code": "None"},
        {"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"},
        {"Code": "None"},
    ]
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert len(dynamodb.attempts) == 1  # not retried by the SDK: the caller decides

    with pytest.raises(ClientError) as caught:
        dynamodb.put_item(TableName=other, Item=_item("single"))
    assert caught.value.response["Error"] == {
        "Code": "TransactionConflictException",
        "Message": "Transaction is ongoing for the item",
    }
    assert len(dynamodb.attempts) == 2
    dynamodb.get_item(TableName=other, Key=_item("t2"))  # a read is not refused
    assert faults.set_faults()["counts"]["dynamodb.transaction_conflict"] == 2
    assert (_stored(shop_platform, table), _stored(shop_platform, other)) == ([], [])

    # a share: the same seed cancels the same transactions; off, they all commit
    def cancelled(seed: int) -> list[int]:
        rule = {"kind": "dynamodb.transaction_conflict", "share": 0.4, "table": "faults-a-*"}
        faults.set_faults(_plan(seed, rule))
        hits = []
        for n in range(12):
            put = {"Put": {"TableName": table, "Item": _item(f"s{seed}-{n}")}}
            try:
                dynamodb.transact_write_items(TransactItems=[put])
            except ClientError as exc:
                hits.append(n)
                codes.add(exc.response["Error"]["Code"])
        return hits

    codes: set[str] = set()
    first = cancelled(7)
    assert 0 < len(first) < 12
    assert codes == {"TransactionCanceledException"}
    assert cancelled(7) == first
    faults.set_faults(FaultPlan())
    dynamodb.transact_write_items(TransactItems=items)
    stored = _stored(shop_platform, table)
    assert len(stored) == 12 - len(first) + 1  # both runs wrote the same keys
    assert "t1" in stored
    assert _stored(shop_platform, other) == ["t2", "t3"]


# --- STS and CloudFormation --------------------------------------------------------------------


def _assume(sts: Any) -> Any:
    return sts.assume_role(
        RoleArn="arn:aws:iam::123456789012:role/faults", RoleSessionName="faults"
    )


def test_sts_errors_answer_the_query_protocols_xml_and_only_throttling_is_retried(
    shop_platform, faults
):
    sts = _client(shop_platform, "sts", THREE_ATTEMPTS)
    faults.set_faults(_plan(1, {"kind": "sts.error", "share": 1, "operation": "AssumeRole"}))
    with pytest.raises(ClientError) as caught:
        _assume(sts)
    error = caught.value.response
    assert error["Error"] == {"Type": "Sender", "Code": "Throttling", "Message": "Rate exceeded"}
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert len(sts.attempts) == 3
    sts.get_caller_identity()  # another operation is not selected
    assert len(sts.attempts) == 4

    faults.set_faults(_plan(1, {"kind": "sts.error", "share": 1, "code": "AccessDenied"}))
    with pytest.raises(ClientError) as caught:
        _assume(sts)
    assert caught.value.response["Error"]["Code"] == "AccessDenied"
    assert len(sts.attempts) == 5  # not retried
    assert faults.set_faults()["counts"]["sts.error"] == 4

    faults.set_faults(FaultPlan())
    assert _assume(sts)["Credentials"]["AccessKeyId"]


def test_cloudformation_errors_select_by_operation_and_stack(shop_platform, faults):
    cloudformation = _client(shop_platform, "cloudformation", THREE_ATTEMPTS)
    stacks = [s["StackName"] for s in cloudformation.describe_stacks()["Stacks"]]
    assert stacks
    faults.set_faults(
        _plan(
            1,
            {
                "kind": "cloudformation.error",
                "share": 1,
                "operation": "DescribeStacks",
                "stack": "tenant-*",
            },
        )
    )
    with pytest.raises(ClientError) as caught:
        cloudformation.describe_stacks(StackName="tenant-abc")
    error = caught.value.response
    assert error["Error"] == {"Type": "Sender", "Code": "Throttling", "Message": "Rate exceeded"}
    assert len(cloudformation.attempts) == 4  # the first call and three attempts
    cloudformation.describe_stacks(StackName=stacks[0])  # another stack is not selected

    faults.set_faults(
        _plan(1, {"kind": "cloudformation.error", "share": 1, "code": "ValidationError"})
    )
    with pytest.raises(ClientError) as caught:
        cloudformation.delete_stack(StackName="tenant-abc")
    assert caught.value.response["Error"]["Code"] == "ValidationError"
    assert len(cloudformation.attempts) == 6  # not retried
    assert faults.set_faults()["counts"]["cloudformation.error"] == 4
    faults.set_faults(FaultPlan())
    assert cloudformation.describe_stacks(StackName=stacks[0])["Stacks"]


# --- the JWKS endpoint -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tenant_platform() -> Iterator[Any]:
    """The tenant service's template: its authorizer reads the user pool's JWKS."""
    templates = [ROOT / "services" / "tenant" / "template.yaml"]
    with start_platform(ROOT, templates, region_map={"us": "us-east-1"}) as running:
        yield running


def _cold_authorizer(platform: Any) -> FunctionRuntime:
    """A new execution environment for the authorizer from now on (as after a deployment or
    when Lambda recycles it): its JWKS cache is empty."""
    runtimes = platform.platform.functions
    key = next(k for k, r in runtimes.items() if r.config.handler.endswith("authorizer.handler"))
    old = runtimes[key]
    new = FunctionRuntime(old.config, platform.platform.config.max_concurrency)
    runtimes[key] = new
    old.retire(new)
    return new


def test_the_authorizer_fails_closed_when_the_jwks_endpoint_is_down(tenant_platform):
    platform = tenant_platform
    jwks_url = f"{platform.aws_endpoint_url}/{platform.user_pool_id}/.well-known/jwks.json"
    down = _plan(1, {"kind": "jwks.unreachable", "share": 1})
    try:
        platform.platform.set_faults(down)
        from urllib import error, request

        with pytest.raises(error.HTTPError) as caught:
            request.urlopen(jwks_url, timeout=5)
        assert caught.value.code == 503

        # a cold authorizer cannot read the key set: the token is refused, never allowed
        authorizer = _cold_authorizer(platform)
        token = platform.login(*platform.system_admin)
        refused = platform.api("GET", "/tenants", token=token)
        assert refused.status == 401, refused.text
        assert authorizer.cold_starts == 1

        # the endpoint answers again: the same token gets in (its refusal is not cached), and
        # the authorizer now holds the pool's key
        platform.platform.set_faults(FaultPlan())
        time.sleep(5.5)  # the verifier waits retry_after_failure (5 s) before a new fetch
        assert platform.api("GET", "/tenants", token=token).status == 200

        # down again: a new token signed by the cached key is still verified (the JWKS cache
        # serves it for the cooldown), so a JWKS outage does not lock out warm authorizers
        platform.platform.set_faults(down)
        time.sleep(1.1)  # a token issued in another second: not the gateway's cached answer
        fresh = platform.login(*platform.system_admin)
        assert fresh != token
        assert platform.api("GET", "/tenants", token=fresh).status == 200
        counts = platform.platform.set_faults()["counts"]
        assert counts["jwks.unreachable"] >= 1  # our own fetch above and the cold authorizer's

        # ...and a cold one refuses the next token (the gateway still answers for `fresh` from
        # its own cache of the authorizer's allow, ReauthorizeEvery 300 s, as API Gateway does)
        _cold_authorizer(platform)
        time.sleep(1.1)
        third = platform.login(*platform.system_admin)
        assert platform.api("GET", "/tenants", token=third).status == 401
        assert platform.api("GET", "/tenants", token=fresh).status == 200
    finally:
        platform.platform.set_faults(FaultPlan())
