"""Each moto gap the local platform works around (saas_local.moto_gaps), observed directly.

Every test here asserts moto's behaviour as it is: when a test fails, moto changed, and the
matching workaround in saas_local/moto_gaps.py may be removed or must change.
"""

from __future__ import annotations

import contextlib
import io
import json
import zipfile
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from moto.server import ThreadedMotoServer

from saas_local import moto_gaps, templates

REGION = "us-east-1"


@pytest.fixture(scope="module")
def moto_url():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws(moto_url):
    def client(service):
        return boto3.client(
            service,
            region_name=REGION,
            endpoint_url=moto_url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    return client


def _stack(aws, name, resources, outputs=None):
    template = {"Resources": resources, "Outputs": outputs or {}}
    cfn = aws("cloudformation")
    cfn.create_stack(StackName=name, TemplateBody=json.dumps(template))
    return cfn.describe_stacks(StackName=name)["Stacks"][0]


def _table(aws, name):
    return aws("dynamodb").create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )["TableDescription"]


def _records(aws, stream_arn):
    streams = aws("dynamodbstreams")
    shard = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]
    iterator = streams.get_shard_iterator(
        StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    return streams.get_records(ShardIterator=iterator)["Records"]


def _function(aws, name):
    role = aws("iam").create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument="{}")
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("h.py", "def handler(event, context):\n    return 1\n")
    return aws("lambda").create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=role["Role"]["Arn"],
        Handler="h.handler",
        Code={"ZipFile": code.getvalue()},
    )["FunctionArn"]


def _queue(aws, name):
    sqs = aws("sqs")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    return url, arn["QueueArn"]


def _bus_to_queue(aws, bus, queue_arn, pattern):
    events = aws("events")
    bus_arn = events.create_event_bus(Name=bus)["EventBusArn"]
    events.put_rule(Name=f"{bus}-rule", EventBusName=bus, EventPattern=json.dumps(pattern))
    events.put_targets(
        Rule=f"{bus}-rule", EventBusName=bus, Targets=[{"Id": "q", "Arn": queue_arn}]
    )
    return bus_arn


def test_cognito_via_cfn_creates_no_user_pool(aws):
    # Given a stack with a user pool
    resources = {"Pool": {"Type": "AWS::Cognito::UserPool", "Properties": {"UserPoolName": "gap"}}}
    # When it is deployed
    stack = _stack(aws, "gap-cognito", resources)
    # Then the stack completes but no pool exists
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    pools = aws("cognito-idp").list_user_pools(MaxResults=60)["UserPools"]
    assert "gap" not in [p["Name"] for p in pools]


def test_event_bus_ref_is_not_the_bus_name(aws):
    resources = {"Bus": {"Type": "AWS::Events::EventBus", "Properties": {"Name": "gap-bus"}}}
    outputs = {"Name": {"Value": {"Ref": "Bus"}}}

    stack = _stack(aws, "gap-bus-ref", resources, outputs)

    assert stack["Outputs"][0]["OutputValue"] != "gap-bus"


def test_rule_on_a_bus_given_by_ref_fails_the_stack(aws):
    resources = {
        "Bus": {"Type": "AWS::Events::EventBus", "Properties": {"Name": "gap-bus-2"}},
        "Rule": {
            "Type": "AWS::Events::Rule",
            "Properties": {"EventBusName": {"Ref": "Bus"}, "EventPattern": {"source": ["x"]}},
        },
    }

    with pytest.raises(Exception, match=r"500|InternalFailure|Error"):
        _stack(aws, "gap-rule-ref", resources)


def test_the_rest_api_sam_generates_fails_the_stack(aws):
    sam = {
        "Transform": "AWS::Serverless-2016-10-31",
        "Resources": {
            "Fn": {
                "Type": "AWS::Serverless::Function",
                "Properties": {
                    "Runtime": "python3.11",
                    "Handler": "h.handler",
                    "CodeUri": "s3://bucket/code.zip",
                    "Events": {
                        "Get": {"Type": "Api", "Properties": {"Path": "/", "Method": "GET"}}
                    },
                },
            }
        },
    }
    cfn = templates.translate(sam, REGION)
    rest_api = {k: v for k, v in cfn["Resources"].items() if v["Type"].endswith("RestApi")}

    with pytest.raises(Exception, match=r"500|InternalFailure|Error"):
        _stack(aws, "gap-rest-api", rest_api)


def test_lambda_invoke_needs_docker(aws):
    arn = _function(aws, "gap-invoke")

    answer = aws("lambda").invoke(FunctionName=arn, Payload=b"{}")

    assert answer.get("FunctionError")
    assert b"docker" in answer["Payload"].read().lower()


def test_stream_records_vanish_when_moto_runs_an_event_source_mapping(aws):
    # Given two tables with streams, one of them the source of an event source mapping
    mapped, plain = _table(aws, "gap-mapped"), _table(aws, "gap-plain")
    aws("lambda").create_event_source_mapping(
        EventSourceArn=mapped["LatestStreamArn"],
        FunctionName=_function(aws, "gap-esm"),
        StartingPosition="TRIM_HORIZON",
    )
    # When an item is written to each
    for table in ("gap-mapped", "gap-plain"):
        aws("dynamodb").put_item(TableName=table, Item={"pk": {"S": "a"}})
    # Then a later reader sees the record of the plain table only
    assert _records(aws, plain["LatestStreamArn"])
    assert _records(aws, mapped["LatestStreamArn"]) == []


def test_queue_policy_is_not_deployed(aws):
    url, _ = _queue(aws, "gap-policy-queue")
    resources = {
        "Policy": {
            "Type": "AWS::SQS::QueuePolicy",
            "Properties": {
                "Queues": [url],
                "PolicyDocument": {
                    "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sqs:*"}]
                },
            },
        }
    }

    with pytest.warns(UserWarning, match="QueuePolicy"):
        _stack(aws, "gap-queue-policy", resources)

    attributes = aws("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["All"])
    assert "Policy" not in attributes["Attributes"]


def test_events_delivered_to_sqs_lack_account(aws):
    url, arn = _queue(aws, "gap-account")
    _bus_to_queue(aws, "gap-account-bus", arn, {"source": ["gap"]})

    aws("events").put_events(
        Entries=[
            {"EventBusName": "gap-account-bus", "Source": "gap", "DetailType": "T", "Detail": "{}"}
        ]
    )

    body = json.loads(aws("sqs").receive_message(QueueUrl=url)["Messages"][0]["Body"])
    assert "account" not in body
    assert json.loads(moto_gaps.complete_eventbridge_body(json.dumps(body)))["account"]


def test_replay_ignores_its_time_window(aws):
    # Given an archived event and a rule that takes replayed events
    url, arn = _queue(aws, "gap-replay")
    bus_arn = _bus_to_queue(aws, "gap-replay-bus", arn, {"replay-name": [{"exists": True}]})
    events = aws("events")
    archive = events.create_archive(ArchiveName="gap-archive", EventSourceArn=bus_arn)
    events.put_events(
        Entries=[
            {"EventBusName": "gap-replay-bus", "Source": "s", "DetailType": "T", "Detail": "{}"}
        ]
    )
    # When a replay covers a window that ended a day before the event
    end = datetime.now(UTC) - timedelta(days=1)
    events.start_replay(
        ReplayName="gap-replay",
        EventSourceArn=archive["ArchiveArn"],
        EventStartTime=end - timedelta(days=1),
        EventEndTime=end,
        Destination={"Arn": bus_arn},
    )
    # Then moto still re-delivers it, and the workaround rejects it
    messages = aws("sqs").receive_message(QueueUrl=url)["Messages"]
    assert len(messages) == 1
    describe = lambda name: events.describe_replay(ReplayName=name)  # noqa: E731
    assert not moto_gaps.replay_admits(messages[0]["Body"], describe, [])


def test_live_rules_can_exclude_replayed_events(aws):
    # Given a live rule excluding replays and a replay rule, on one bus with an archive
    live_url, live_arn = _queue(aws, "gap-live")
    bus_arn = _bus_to_queue(aws, "gap-live-bus", live_arn, {"replay-name": [{"exists": False}]})
    replay_url, replay_arn = _queue(aws, "gap-live-replays")
    events = aws("events")
    events.put_rule(
        Name="replays",
        EventBusName="gap-live-bus",
        EventPattern=json.dumps({"replay-name": [{"exists": True}]}),
    )
    events.put_targets(
        Rule="replays", EventBusName="gap-live-bus", Targets=[{"Id": "q", "Arn": replay_arn}]
    )
    archive = events.create_archive(ArchiveName="gap-live-archive", EventSourceArn=bus_arn)
    events.put_events(
        Entries=[{"EventBusName": "gap-live-bus", "Source": "s", "DetailType": "T", "Detail": "{}"}]
    )
    sqs = aws("sqs")
    assert len(sqs.receive_message(QueueUrl=live_url)["Messages"]) == 1
    # When the archive is replayed
    events.start_replay(
        ReplayName="gap-live",
        EventSourceArn=archive["ArchiveArn"],
        EventStartTime=datetime.now(UTC) - timedelta(hours=1),
        EventEndTime=datetime.now(UTC) + timedelta(hours=1),
        Destination={"Arn": bus_arn},
    )
    # Then only the replay rule gets it
    assert "Messages" not in sqs.receive_message(QueueUrl=live_url, VisibilityTimeout=0)
    replayed = sqs.receive_message(QueueUrl=replay_url)["Messages"]
    assert json.loads(replayed[0]["Body"])["replay-name"] == "gap-live"


def test_each_event_delivery_parses_its_json_paths_again(monkeypatch):
    # Given a counter on the JSONPath parser moto uses
    import jsonpath_ng.ext
    from moto.events.utils import EventTemplateParser

    calls = []
    real_parse = jsonpath_ng.ext.parse
    monkeypatch.setattr(
        jsonpath_ng.ext, "parse", lambda path: calls.append(path) or real_parse(path)
    )
    event = {"id": "1", "detail-type": "T", "source": "s", "account": "1", "time": '"t"',
             "region": "r", "resources": [], "detail": {}, "ingestion-time": "t"}  # fmt: skip
    # When moto prepares the same event for a target twice
    EventTemplateParser.parse(input_template=None, input_paths_map={}, event=event)
    first = len(calls)
    EventTemplateParser.parse(input_template=None, input_paths_map={}, event=event)
    # Then it parsed the same paths again (what cache_event_path_parsing makes cheap)
    assert first > 0
    assert len(calls) == 2 * first


def test_a_failed_transaction_blinds_the_stream_iterators_taken_before_it(aws):
    # Given a stream read up to its first record, with the next iterator kept
    table = _table(aws, "gap-rollback")
    streams, dynamodb = aws("dynamodbstreams"), aws("dynamodb")
    shard = streams.describe_stream(StreamArn=table["LatestStreamArn"])["StreamDescription"][
        "Shards"
    ][0]["ShardId"]
    iterator = streams.get_shard_iterator(
        StreamArn=table["LatestStreamArn"], ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    dynamodb.put_item(TableName="gap-rollback", Item={"pk": {"S": "a"}})
    first = streams.get_records(ShardIterator=iterator)
    last = first["Records"][-1]["dynamodb"]["SequenceNumber"]
    # When a transaction fails its condition (moto restores a copy of the table) and then an
    # item is written
    with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
        dynamodb.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": "gap-rollback",
                        "Item": {"pk": {"S": "a"}},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
            ]
        )
    dynamodb.put_item(TableName="gap-rollback", Item={"pk": {"S": "b"}})
    # Then the kept iterator sees nothing more, while one taken after the last sequence number
    # read sees the new record (what saas_local.pumps.StreamPump does on every poll)
    assert streams.get_records(ShardIterator=first["NextShardIterator"])["Records"] == []
    fresh = streams.get_shard_iterator(
        StreamArn=table["LatestStreamArn"],
        ShardId=shard,
        ShardIteratorType="AFTER_SEQUENCE_NUMBER",
        SequenceNumber=last,
    )["ShardIterator"]
    keys = [r["dynamodb"]["Keys"] for r in streams.get_records(ShardIterator=fresh)["Records"]]
    assert keys == [{"pk": {"S": "b"}}]


# --- TRANSACTION_COPY -------------------------------------------------------------------------


@pytest.fixture
def in_process_dynamodb():
    """moto in this process (no server), so a test can look at the backend's own objects."""
    from moto import mock_aws
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    with mock_aws():
        client = boto3.client(
            "dynamodb",
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        client.create_table(
            TableName="tx",
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        yield client, dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION]


def _key(pk, sk="-"):
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def _put(pk, sk="-", condition=None, **attrs):
    op = {"TableName": "tx", "Item": {**_key(pk, sk), **attrs}}
    if condition:
        op["ConditionExpression"] = condition
    return {"Put": op}


def _state(client, backend):
    items = client.scan(TableName="tx")["Items"]
    events = [
        (r.record["eventName"], r.record["dynamodb"]["Keys"]["pk"]["S"])
        for r in backend.tables["tx"].stream_shard.items
    ]
    return sorted(items, key=lambda i: (i["pk"]["S"], i["sk"]["S"])), events


def _transact(client, items):
    """Cancellation reasons (codes) of a transaction, or None when it was committed."""
    try:
        client.transact_write_items(TransactItems=items)
    except client.exceptions.TransactionCanceledException as e:
        return [r["Code"] for r in e.response["CancellationReasons"]]
    return None


def test_a_cancelled_transaction_puts_a_copy_of_the_whole_table_in_place(in_process_dynamodb):
    # Given a table
    client, backend = in_process_dynamodb
    table = backend.tables["tx"]
    client.put_item(TableName="tx", Item=_key("a"))
    # When a transaction on it is cancelled
    assert _transact(client, [_put("a", condition="attribute_not_exists(pk)")]) is not None
    # Then moto has replaced the table (and its stream shard) by the deep copy it took first
    assert backend.tables["tx"] is not table
    assert backend.tables["tx"].stream_shard is not table.stream_shard


SCENARIOS = {
    "committed": [
        _put("new", n={"N": "1"}),
        {
            "Update": {
                "TableName": "tx",
                "Key": _key("kept"),
                "UpdateExpression": "SET n = n + :one",
                "ExpressionAttributeValues": {":one": {"N": "1"}},
                "ConditionExpression": "attribute_exists(pk)",
            }
        },
        {"Delete": {"TableName": "tx", "Key": _key("gone")}},
        {
            "ConditionCheck": {
                "TableName": "tx",
                "Key": _key("other"),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        },
    ],
    "cancelled by its last condition": [
        _put("new", n={"N": "1"}),
        {"Delete": {"TableName": "tx", "Key": _key("gone")}},
        {
            "Update": {
                "TableName": "tx",
                "Key": _key("kept"),
                "UpdateExpression": "SET n = :zero",
                "ExpressionAttributeValues": {":zero": {"N": "0"}},
            }
        },
        _put("kept", "second", condition="attribute_exists(pk)"),
    ],
    "cancelled by its first condition": [
        _put("gone", condition="attribute_not_exists(pk)"),
        _put("new"),
    ],
}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_lean_transactions_do_what_moto_does(in_process_dynamodb, monkeypatch, scenario):
    client, backend = in_process_dynamodb

    def run():
        for pk in ("new", "kept", "gone", "other"):
            client.delete_item(TableName="tx", Key=_key(pk))
            client.delete_item(TableName="tx", Key=_key(pk, "second"))
        client.put_item(TableName="tx", Item={**_key("kept"), "n": {"N": "5"}})
        client.put_item(TableName="tx", Item=_key("gone"))
        shard = backend.tables["tx"].stream_shard
        before = len(shard.items)
        reasons = _transact(client, SCENARIOS[scenario])
        items, events = _state(client, backend)
        return reasons, items, events[before:]

    # Given the outcome of the scenario under moto's own implementation
    expected = run()
    # When the same scenario runs under the lean one
    from moto.dynamodb.models import DynamoDBBackend

    monkeypatch.setattr(DynamoDBBackend, "transact_write_items", moto_gaps.transact_write_items)
    table = backend.tables["tx"]
    # Then the reasons, the items and the stream records are the same
    assert run() == expected
    # And the table and its stream are the same objects as before
    assert backend.tables["tx"] is table


def test_a_cancelled_lean_transaction_writes_no_stream_record_and_keeps_iterators(
    in_process_dynamodb, monkeypatch
):
    # Given the lean transactions, and a table whose stream has one record
    from moto.dynamodb.models import DynamoDBBackend

    monkeypatch.setattr(DynamoDBBackend, "transact_write_items", moto_gaps.transact_write_items)
    client, backend = in_process_dynamodb
    client.put_item(TableName="tx", Item={**_key("a"), "v": {"S": "1"}})
    shard = backend.tables["tx"].stream_shard
    assert len(shard.items) == 1
    # When a transaction that wrote two items is cancelled by its third
    reasons = _transact(
        client,
        [
            _put("a", v={"S": "2"}),
            _put("b"),
            _put("c", condition="attribute_exists(pk)"),
        ],
    )
    # Then both items are as they were, with no stream record for them, in the same shard
    assert reasons == ["None", "None", "ConditionalCheckFailed"]
    items, events = _state(client, backend)
    assert items == [{**_key("a"), "v": {"S": "1"}}]
    assert events == [("INSERT", "a")]
    assert backend.tables["tx"].stream_shard is shard


def test_lean_transactions_refuse_two_writes_to_one_item(in_process_dynamodb, monkeypatch):
    from moto.dynamodb.models import DynamoDBBackend

    monkeypatch.setattr(DynamoDBBackend, "transact_write_items", moto_gaps.transact_write_items)
    client, backend = in_process_dynamodb
    with pytest.raises(client.exceptions.ClientError, match="multiple operations"):
        client.transact_write_items(TransactItems=[_put("a"), _put("a")])
    assert _state(client, backend) == ([], [])


# --- Cognito as the web console calls it: from the browser, on its own origin -----------------

CONSOLE_ORIGIN = "http://127.0.0.1:8081"


def _cognito_user(aws):
    cognito = aws("cognito-idp")
    pool = cognito.create_user_pool(PoolName="console")["UserPool"]["Id"]
    client_id = cognito.create_user_pool_client(
        UserPoolId=pool, ClientName="web", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"]
    )["UserPoolClient"]["ClientId"]
    cognito.admin_create_user(
        UserPoolId=pool,
        Username="u@x.test",
        TemporaryPassword="Passw0rd-1234",
        MessageAction="SUPPRESS",
    )
    cognito.admin_set_user_password(
        UserPoolId=pool, Username="u@x.test", Password="Passw0rd-1234", Permanent=True
    )
    return cognito, pool, client_id


def _browser_call(moto_url, target, body, method="POST"):
    """What a browser sends to Cognito's endpoint: unsigned JSON with the page's Origin."""
    import urllib.error
    import urllib.request

    headers = {"Origin": CONSOLE_ORIGIN}
    if method == "OPTIONS":
        headers["Access-Control-Request-Method"] = "POST"
        headers["Access-Control-Request-Headers"] = "content-type,x-amz-target,x-amz-user-agent"
        data = None
    else:
        headers["Content-Type"] = "application/x-amz-json-1.1"
        headers["X-Amz-Target"] = f"AWSCognitoIdentityProviderService.{target}"
        data = json.dumps(body).encode()
    request = urllib.request.Request(moto_url + "/", data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers, error.read()


def test_moto_answers_the_browsers_cors_for_cognito(aws, moto_url):
    """Not a gap: the console signs in from its own origin against moto's server as is."""
    _cognito, _pool, client_id = _cognito_user(aws)
    login = {
        "AuthFlow": "USER_PASSWORD_AUTH",
        "ClientId": client_id,
        "AuthParameters": {"USERNAME": "u@x.test", "PASSWORD": "Passw0rd-1234"},
    }

    preflight = _browser_call(moto_url, "InitiateAuth", None, method="OPTIONS")
    signed_in = _browser_call(moto_url, "InitiateAuth", login)
    refused = _browser_call(
        moto_url,
        "InitiateAuth",
        {**login, "AuthParameters": {"USERNAME": "u@x.test", "PASSWORD": "no"}},
    )

    status, headers, _ = preflight
    assert status == 200
    assert headers["Access-Control-Allow-Origin"] == CONSOLE_ORIGIN
    assert "POST" in headers["Access-Control-Allow-Methods"]
    allowed = {h.strip() for h in headers["Access-Control-Allow-Headers"].lower().split(",")}
    assert {"content-type", "x-amz-target", "x-amz-user-agent"} <= allowed
    status, headers, body = signed_in
    assert status == 200
    assert headers["Access-Control-Allow-Origin"] == CONSOLE_ORIGIN
    assert json.loads(body)["AuthenticationResult"]["IdToken"]
    status, headers, body = refused
    assert status == 400
    assert headers["Access-Control-Allow-Origin"] == CONSOLE_ORIGIN
    assert json.loads(body)["__type"] == "NotAuthorizedException"


def test_cognito_revoke_token_is_not_implemented(aws):
    from botocore.config import Config
    from botocore.exceptions import ClientError

    cognito, _pool, client_id = _cognito_user(aws)
    tokens = cognito.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "u@x.test", "PASSWORD": "Passw0rd-1234"},
    )["AuthenticationResult"]
    once = boto3.client(
        "cognito-idp",
        region_name=REGION,
        endpoint_url=cognito.meta.endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 1}),
    )

    with pytest.raises(ClientError, match=r"\(500\)"):
        once.revoke_token(Token=tokens["RefreshToken"], ClientId=client_id)


def test_revoke_token_workaround_revokes_the_refresh_token(aws, monkeypatch):
    from moto.cognitoidp.responses import CognitoIdpResponse

    monkeypatch.setattr(CognitoIdpResponse, "revoke_token", moto_gaps.revoke_token, raising=False)
    cognito, _pool, client_id = _cognito_user(aws)
    other = cognito.create_user_pool_client(UserPoolId=_pool, ClientName="other")["UserPoolClient"][
        "ClientId"
    ]
    tokens = cognito.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "u@x.test", "PASSWORD": "Passw0rd-1234"},
    )["AuthenticationResult"]
    refresh = {"REFRESH_TOKEN": tokens["RefreshToken"]}

    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        cognito.revoke_token(Token=tokens["RefreshToken"], ClientId=other)
    assert cognito.initiate_auth(
        ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters=refresh
    )["AuthenticationResult"]["IdToken"]
    cognito.revoke_token(Token=tokens["RefreshToken"], ClientId=client_id)
    cognito.revoke_token(Token="not-a-token", ClientId=client_id)

    with pytest.raises(cognito.exceptions.NotAuthorizedException, match="revoked"):
        cognito.initiate_auth(
            ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters=refresh
        )


# --- SQS_RECEIVE_RACE -------------------------------------------------------------------------


@pytest.fixture
def sqs_queue(monkeypatch):
    """(moto's SQS backend, a queue whose one message is past maxReceiveCount, its DLQ's name),
    in this process's moto; SQSBackend.receive_message is restored after the test."""
    from moto import mock_aws
    from moto.sqs.models import SQSBackend, sqs_backends

    monkeypatch.setattr(SQSBackend, "receive_message", SQSBackend.receive_message)
    with mock_aws():
        sqs = boto3.client("sqs", region_name=REGION)
        dlq = sqs.create_queue(QueueName="race-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])
        policy = {"deadLetterTargetArn": dlq_arn["Attributes"]["QueueArn"], "maxReceiveCount": 1}
        url = sqs.create_queue(QueueName="race", Attributes={"RedrivePolicy": json.dumps(policy)})[
            "QueueUrl"
        ]
        sqs.send_message(QueueUrl=url, MessageBody="once")
        sqs.receive_message(QueueUrl=url, VisibilityTimeout=0)  # received once: visible again
        yield sqs_backends[templates.ACCOUNT_ID][REGION], sqs


def _receive_together(backend, monkeypatch, pause):
    """Two receivers of the queue at once, each pausing `pause` after reading the visible
    messages (`pause` is given the thread's turn); the errors they raised."""
    import threading

    from moto.sqs.models import Queue

    visible = Queue.messages.fget
    monkeypatch.setattr(Queue, "messages", property(lambda q: pause(visible(q))))
    errors: list[BaseException] = []

    def receive():
        try:
            backend.receive_message("race", 1, 0, 30)
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=receive) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    return errors


def test_two_receives_at_once_both_move_a_message_to_the_dlq(sqs_queue, monkeypatch):
    import threading

    backend, _ = sqs_queue
    both_read = threading.Barrier(2, timeout=5)

    def pause(messages):
        both_read.wait()  # each receiver has read the message before either moved it
        return messages

    errors = _receive_together(backend, monkeypatch, pause)

    assert [str(e) for e in errors] == ["list.remove(x): x not in list"]


def test_serialized_receives_move_the_message_once(sqs_queue, monkeypatch):
    import time

    backend, sqs = sqs_queue
    moto_gaps.serialize_sqs_receives()

    errors = _receive_together(backend, monkeypatch, lambda m: time.sleep(0.2) or m)

    assert errors == []
    dlq = sqs.get_queue_url(QueueName="race-dlq")["QueueUrl"]
    assert [
        m["Body"] for m in sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10)["Messages"]
    ] == ["once"]


def test_a_serialized_long_poll_answers_when_a_message_arrives(sqs_queue):
    import threading
    import time

    backend, sqs = sqs_queue
    moto_gaps.serialize_sqs_receives()
    sqs.create_queue(QueueName="quiet")
    url = sqs.get_queue_url(QueueName="quiet")["QueueUrl"]
    threading.Timer(0.3, lambda: sqs.send_message(QueueUrl=url, MessageBody="late")).start()

    began = time.monotonic()
    received = backend.receive_message("quiet", 1, 5, 30)

    assert [m.body for m in received] == ["late"]
    assert time.monotonic() - began < 2
    assert backend.receive_message("quiet", 1, 1, 30) == []  # in flight: an empty long poll


# --- SESSION_TAGS and ASSUMED_ROLE_POLICIES ---------------------------------------------------

TENANT_ACCESS_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "dynamodb:GetItem",
                "dynamodb:Query",
                "dynamodb:PutItem",
                "dynamodb:BatchGetItem",
                "dynamodb:ConditionCheckItem",
            ],
            "Resource": [
                f"arn:aws:dynamodb:{REGION}:{templates.ACCOUNT_ID}:table/gap-pool",
                f"arn:aws:dynamodb:{REGION}:{templates.ACCOUNT_ID}:table/gap-pool/index/*",
                f"arn:aws:dynamodb:{REGION}:{templates.ACCOUNT_ID}:table/tenant-${{aws:PrincipalTag/tenant_id}}-gap",
            ],
            "Condition": {
                "ForAllValues:StringEquals": {
                    "dynamodb:LeadingKeys": ["TENANT#${aws:PrincipalTag/tenant_id}"]
                }
            },
        }
    ],
}


def _session(aws, moto_url, role, *, tags=None, policy=None):
    arguments = {"RoleArn": role, "RoleSessionName": "gap-session"}
    if tags is not None:
        arguments["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
    if policy is not None:
        arguments["Policy"] = json.dumps(policy)
    credentials = aws("sts").assume_role(**arguments)["Credentials"]
    return boto3.client(
        "dynamodb",
        region_name=REGION,
        endpoint_url=moto_url,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


def _pk_table(aws, name, *, index=False):
    extra = {}
    attributes = [{"AttributeName": "pk", "AttributeType": "S"}]
    if index:
        attributes.append({"AttributeName": "placed", "AttributeType": "S"})
        extra["GlobalSecondaryIndexes"] = [
            {
                "IndexName": "by-placed",
                "KeySchema": [
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "placed", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ]
    with contextlib.suppress(Exception):
        aws("dynamodb").create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=attributes,
            BillingMode="PAY_PER_REQUEST",
            **extra,
        )
    for tenant in ("a", "b"):
        aws("dynamodb").put_item(
            TableName=name,
            Item={"pk": {"S": f"TENANT#{tenant}"}, "placed": {"S": "1"}, "secret": {"S": tenant}},
        )


def _role(aws, name, *policies):
    iam = aws("iam")
    with contextlib.suppress(iam.exceptions.EntityAlreadyExistsException):
        iam.create_role(RoleName=name, AssumeRolePolicyDocument="{}")
    for number, policy in enumerate(policies):
        iam.put_role_policy(
            RoleName=name, PolicyName=f"p{number}", PolicyDocument=json.dumps(policy)
        )
    return f"arn:aws:iam::{templates.ACCOUNT_ID}:role/{name}"


@pytest.fixture
def enforced(monkeypatch):
    """The two gaps' workarounds installed in this process (its moto server), for one test."""
    from moto.dynamodb.responses import DynamoHandler
    from moto.sts.responses import TokenResponse

    monkeypatch.setattr(DynamoHandler, "call_action", DynamoHandler.call_action)
    monkeypatch.setattr(TokenResponse, "assume_role", TokenResponse.assume_role)
    monkeypatch.setattr(moto_gaps, "SESSION_TAGS", {})
    moto_gaps.keep_session_tags()
    moto_gaps.enforce_assumed_role_policies()


def test_assume_role_drops_the_session_tags(aws):
    from moto.sts.models import sts_backends

    role = _role(aws, "gap-tags-role")
    key = aws("sts").assume_role(
        RoleArn=role,
        RoleSessionName="session",
        Tags=[{"Key": "tenant_id", "Value": "tag-value-7d3f"}],
    )["Credentials"]["AccessKeyId"]
    session = sts_backends[templates.ACCOUNT_ID]["aws"].get_assumed_role_from_access_key(key)
    assert session is not None
    assert "tag-value-7d3f" not in repr({k: repr(v) for k, v in vars(session).items()})


def test_moto_lets_an_assumed_role_with_no_policy_read_any_item(aws, moto_url):
    _pk_table(aws, "gap-open")
    client = _session(aws, moto_url, _role(aws, "gap-nothing-role"))
    item = client.get_item(TableName="gap-open", Key={"pk": {"S": "TENANT#b"}})["Item"]
    assert item["secret"] == {"S": "b"}


def test_session_tags_are_kept_by_access_key(aws, enforced):
    key = aws("sts").assume_role(
        RoleArn=_role(aws, "gap-tags-role"),
        RoleSessionName="session",
        Tags=[{"Key": "tenant_id", "Value": "a"}],
    )["Credentials"]["AccessKeyId"]
    assert moto_gaps.SESSION_TAGS[key] == {"tenant_id": "a"}


def _denied(call):
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as caught:
        call()
    response = caught.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert response["Error"]["Code"] == "AccessDeniedException"
    return response["Error"]["Message"]


def test_leading_keys_hold_a_session_to_its_tenant(aws, moto_url, enforced):
    _pk_table(aws, "gap-pool", index=True)
    _pk_table(aws, "tenant-a-gap")
    _pk_table(aws, "tenant-b-gap")
    role = _role(aws, "gap-tenant-access", TENANT_ACCESS_POLICY)
    client = _session(aws, moto_url, role, tags={"tenant_id": "a"})
    own = {"pk": {"S": "TENANT#a"}}
    other = {"pk": {"S": "TENANT#b"}}

    assert client.get_item(TableName="gap-pool", Key=own)["Item"]["secret"] == {"S": "a"}
    assert client.get_item(TableName="tenant-a-gap", Key=own)["Item"]["secret"] == {"S": "a"}
    query = client.query(
        TableName="gap-pool",
        IndexName="by-placed",
        KeyConditionExpression="#p = :pk AND placed > :zero",
        ExpressionAttributeNames={"#p": "pk"},
        ExpressionAttributeValues={":pk": {"S": "TENANT#a"}, ":zero": {"S": "0"}},
    )
    assert [i["secret"]["S"] for i in query["Items"]] == ["a"]

    message = _denied(lambda: client.get_item(TableName="gap-pool", Key=other))
    assert message == (
        f"User: arn:aws:sts::{templates.ACCOUNT_ID}:assumed-role/gap-tenant-access/gap-session"
        " is not authorized to perform: dynamodb:GetItem on resource: "
        f"arn:aws:dynamodb:{REGION}:{templates.ACCOUNT_ID}:table/gap-pool"
        " because no identity-based policy allows the dynamodb:GetItem action"
    )
    assert "table/gap-pool/index/by-placed" in _denied(
        lambda: client.query(
            TableName="gap-pool",
            IndexName="by-placed",
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": "TENANT#b"}},
        )
    )
    _denied(lambda: client.get_item(TableName="tenant-b-gap", Key=other))
    _denied(lambda: client.get_item(TableName="tenant-b-gap", Key=own))
    _denied(lambda: client.batch_get_item(RequestItems={"gap-pool": {"Keys": [own, other]}}))
    _denied(
        lambda: client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": "gap-pool", "Item": {**own, "n": {"S": "1"}}}},
                {
                    "ConditionCheck": {
                        "TableName": "gap-pool",
                        "Key": other,
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
            ]
        )
    )
    # Scan names no key: ForAllValues would hold, so the policy must not allow it at all.
    assert "dynamodb:Scan" in _denied(lambda: client.scan(TableName="gap-pool"))
    assert client.get_item(TableName="gap-pool", Key=own)["Item"]["secret"] == {"S": "a"}


def test_a_session_without_the_tag_reads_nothing(aws, moto_url, enforced):
    _pk_table(aws, "gap-pool", index=True)
    client = _session(aws, moto_url, _role(aws, "gap-tenant-access", TENANT_ACCESS_POLICY))
    _denied(lambda: client.get_item(TableName="gap-pool", Key={"pk": {"S": "TENANT#a"}}))
    _denied(lambda: client.get_item(TableName="gap-pool", Key={"pk": {"S": "TENANT#"}}))


def test_a_session_policy_narrows_the_role(aws, moto_url, enforced):
    _pk_table(aws, "gap-pool", index=True)
    everything = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}],
    }
    role = _role(aws, "gap-broad-role", everything)
    narrow = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "dynamodb:Get*",
                "Resource": "*",
                "Condition": {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["TENANT#a*"]}},
            }
        ],
    }
    client = _session(aws, moto_url, role, policy=narrow)
    assert client.get_item(TableName="gap-pool", Key={"pk": {"S": "TENANT#a"}})["Item"]
    message = _denied(lambda: client.get_item(TableName="gap-pool", Key={"pk": {"S": "TENANT#b"}}))
    assert message.endswith("because no session policy allows the dynamodb:GetItem action")
    deny = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Action": "dynamodb:GetItem", "Resource": "*"}],
    }
    denied = _session(aws, moto_url, _role(aws, "gap-deny-role", everything, deny))
    message = _denied(lambda: denied.get_item(TableName="gap-pool", Key={"pk": {"S": "TENANT#a"}}))
    assert message.endswith("with an explicit deny in an identity-based policy")


def test_a_policy_shape_it_does_not_evaluate_is_refused_by_name(aws, moto_url, enforced):
    from botocore.exceptions import ClientError

    _pk_table(aws, "gap-pool", index=True)
    not_action = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"}],
    }
    client = _session(aws, moto_url, _role(aws, "gap-odd-role", not_action))
    with pytest.raises(ClientError) as caught:
        client.get_item(TableName="gap-pool", Key={"pk": {"S": "TENANT#a"}})
    assert "NotAction" in caught.value.response["Error"]["Message"]


def test_the_platforms_own_keys_are_not_evaluated(aws, enforced):
    _pk_table(aws, "gap-pool", index=True)
    item = aws("dynamodb").get_item(TableName="gap-pool", Key={"pk": {"S": "TENANT#b"}})
    assert item["Item"]["secret"] == {"S": "b"}


def _fresh_moto():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return server, f"http://{host}:{port}"


def _apigateway(url):
    return boto3.client(
        "apigateway",
        region_name=REGION,
        endpoint_url=url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def test_flush_stage_authorizers_cache_is_not_implemented():
    server, url = _fresh_moto()  # its own server: its apps read moto's URL table as it is
    try:
        apigateway = _apigateway(url)
        api_id = apigateway.create_rest_api(name="flush")["id"]
        apigateway.create_stage(restApiId=api_id, stageName="prod", deploymentId="local")

        with pytest.raises(apigateway.exceptions.ClientError, match=r"(?s)\(404\).*Not Found"):
            apigateway.flush_stage_authorizers_cache(restApiId=api_id, stageName="prod")
    finally:
        server.stop()


def test_the_authorizer_cache_flush_gap_answers_and_counts_per_stage(monkeypatch):
    from moto.apigateway import urls

    monkeypatch.setitem(
        urls.url_paths, moto_gaps.AUTHORIZER_CACHE_PATH, moto_gaps._authorizer_cache
    )
    monkeypatch.setattr(moto_gaps, "_flushes", {})
    server, url = _fresh_moto()
    try:
        apigateway = _apigateway(url)
        api_id = apigateway.create_rest_api(name="flush")["id"]

        apigateway.flush_stage_authorizers_cache(restApiId=api_id, stageName="prod")
        apigateway.flush_stage_authorizers_cache(restApiId=api_id, stageName="prod")

        assert moto_gaps.authorizer_cache_flushes(url, REGION) == {f"{api_id}/prod": 2}
    finally:
        server.stop()


def test_rest_apis_and_usage_plans_are_created_from_the_translated_template(aws, tmp_path):
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    sam = templates.load_template(root / "services/product/template.yaml")
    cfn = templates.translate(
        sam, REGION, code={"Bucket": "b", "Key": "k"}, cache_dir=tmp_path / "sam-cache"
    )
    numbers = {"saas-limits-basic-rate": "2", "saas-limits-basic-burst": "4"}
    numbers |= {"saas-limits-basic-quota": "100", "saas-limits-premium-rate": "20"}
    numbers |= {"saas-limits-premium-burst": "40", "saas-limits-premium-quota": "1000"}

    def resolve(value):
        if isinstance(value, dict) and "Fn::ImportValue" in value:
            return numbers[value["Fn::ImportValue"]]
        return value

    apigateway = aws("apigateway")
    apis = moto_gaps.create_rest_apis(cfn, apigateway, "product-gap")
    moto_gaps.create_usage_plans(cfn, apigateway, apis, resolve)

    api_id, stages = apis["ProductsApi"]
    assert stages == ["prod"]
    assert apigateway.get_stages(restApiId=api_id)["item"][0]["stageName"] == "prod"
    plans = {p["name"]: p for p in apigateway.get_usage_plans()["items"]}
    basic = plans["saas-product-basic"]
    assert basic["apiStages"] == [{"apiId": api_id, "stage": "prod"}]
    assert basic["throttle"] == {"rateLimit": 2.0, "burstLimit": 4}
    assert basic["quota"] == {"limit": 100, "period": "DAY"}
    assert basic["tags"] == {"saas:tier": "basic"}
    assert plans["saas-product-premium"]["throttle"] == {"rateLimit": 20.0, "burstLimit": 40}


def test_an_account_subscription_policy_is_neither_kept_nor_delivered(aws):
    # Given a stack with a subscription filter policy for the whole account (the metering
    # service's UsageSubscription) towards a function
    arn = _function(aws, "gap-usage-records")
    policy = {
        "Type": "AWS::Logs::AccountPolicy",
        "Properties": {
            "PolicyName": "gap-usage",
            "PolicyType": "SUBSCRIPTION_FILTER_POLICY",
            "Scope": "ALL",
            "PolicyDocument": json.dumps(
                {"DestinationArn": arn, "FilterPattern": "{ $.usage_version = 1 }"}
            ),
        },
    }
    # When it is deployed
    stack = _stack(aws, "gap-account-policy", {"Policy": policy})
    # Then the stack completes (moto warns it skips the type), but its Logs has no account
    # policies at all (DescribeAccountPolicies is not implemented: a 500), so nothing could
    # ever be delivered (nor could its Lambda run our functions: test_lambda_invoke_needs_docker).
    # saas_local.log_subscriptions reads the policy from the template and delivers locally.
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    with pytest.raises(Exception, match=r"\(500\).*DescribeAccountPolicies"):
        aws("logs").describe_account_policies(policyType="SUBSCRIPTION_FILTER_POLICY")


def test_a_transaction_reports_no_consumed_capacity(aws):
    # Given a table, when a transaction asks for its consumed capacity
    _table(aws, "gap-capacity")
    answer = aws("dynamodb").transact_write_items(
        TransactItems=[{"Put": {"TableName": "gap-capacity", "Item": {"pk": {"S": "a"}}}}],
        ReturnConsumedCapacity="TOTAL",
    )
    # Then moto reports nothing consumed (DynamoDB would: 2 write units)
    assert answer["ConsumedCapacity"] == []


def test_the_capacity_gap_reports_what_dynamodb_bills_a_transaction(in_process_dynamodb):
    client, _ = in_process_dynamodb
    from moto.dynamodb.responses import DynamoHandler

    original = DynamoHandler.transact_write_items
    try:
        moto_gaps.transaction_consumed_capacity()
        big = {"S": "x" * 1500}  # two started KB
        answer = client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": "tx", "Item": {**_key("a"), "blob": big}}},
                {"Delete": {"TableName": "tx", "Key": _key("b")}},
            ],
            ReturnConsumedCapacity="TOTAL",
        )
        quiet = client.transact_write_items(
            TransactItems=[{"Put": {"TableName": "tx", "Item": _key("c")}}]
        )
    finally:
        DynamoHandler.transact_write_items = original
    assert answer["ConsumedCapacity"] == [
        {"TableName": "tx", "CapacityUnits": 6.0, "WriteCapacityUnits": 6.0}
    ]
    assert "ConsumedCapacity" not in quiet or quiet["ConsumedCapacity"] == []


def test_a_permission_on_a_functions_alias_fails_the_stack(aws):
    # Given a function, its alias and a permission for Logs on the alias (as SAM's
    # AutoPublishAlias and the metering template make them)
    _function(aws, "gap-alias-target")
    resources = {
        "Alias": {
            "Type": "AWS::Lambda::Alias",
            "Properties": {
                "FunctionName": "gap-alias-target",
                "FunctionVersion": "$LATEST",
                "Name": "live",
            },
        },
        "Permission": {
            "Type": "AWS::Lambda::Permission",
            "Properties": {
                "Action": "lambda:InvokeFunction",
                "FunctionName": {"Ref": "Alias"},
                "Principal": "logs.amazonaws.com",
            },
        },
    }
    # Then moto's CloudFormation fails the stack (adapt_template leaves the permission out)
    with pytest.raises(Exception, match=r"500|InternalFailure|Error"):
        _stack(aws, "gap-alias-permission", resources)
    adapted = moto_gaps.adapt_template({"Resources": resources}, {})
    assert "Permission" not in adapted["Resources"]


# --- CLOUDWATCH_VIA_CFN -------------------------------------------------------------------------


def test_cloudformation_skips_alarms_and_insight_rules_but_deploys_dashboards(aws):
    resources = {
        "Alarm": {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "AlarmName": "gap-alarm",
                "Namespace": "AWS/SQS",
                "MetricName": "ApproximateNumberOfMessagesVisible",
                "Statistic": "Maximum",
                "Period": 60,
                "EvaluationPeriods": 1,
                "Threshold": 0,
                "ComparisonOperator": "GreaterThanThreshold",
            },
        },
        "Rule": {
            "Type": "AWS::CloudWatch::InsightRule",
            "Properties": {
                "RuleName": "gap-rule",
                "RuleState": "ENABLED",
                "RuleBody": json.dumps({"Schema": {"Name": "CloudWatchLogRule", "Version": 1}}),
            },
        },
        "Dashboard": {
            "Type": "AWS::CloudWatch::Dashboard",
            "Properties": {"DashboardName": "gap-dashboard", "DashboardBody": '{"widgets": []}'},
        },
    }

    with pytest.warns(UserWarning, match="CloudWatch::Alarm"):
        stack = _stack(aws, "gap-cloudwatch", resources)

    cloudwatch = aws("cloudwatch")
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert cloudwatch.describe_alarms(AlarmNames=["gap-alarm"])["MetricAlarms"] == []
    rules = cloudwatch.describe_insight_rules()["InsightRules"]
    assert "gap-rule" not in {r["Name"] for r in rules}
    dashboards = cloudwatch.list_dashboards(DashboardNamePrefix="gap-")["DashboardEntries"]
    assert [d["DashboardName"] for d in dashboards] == ["gap-dashboard"]


def test_put_dashboard_checks_only_that_the_body_is_json(aws):
    # AWS refuses a widget of no known type (DashboardInvalidInputError); moto stores it.
    body = json.dumps({"widgets": [{"type": "no-such-widget", "properties": {}}]})

    answer = aws("cloudwatch").put_dashboard(DashboardName="gap-shapeless", DashboardBody=body)

    assert answer["DashboardValidationMessages"] == []


def _fake_resolve(value):
    """Refs, GetAtts and Subs as recognisable strings (no deployed stack needed)."""
    if isinstance(value, list):
        return [_fake_resolve(v) for v in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Ref"}:
        parameters = {"Backend": "dynamodb", "DeadLetterDepthThreshold": "0"}
        parameters |= {"SagaP95ThresholdSeconds": "10", "Api5xxRateThreshold": "0.01"}
        return parameters.get(value["Ref"], f"ref-{value['Ref']}")
    if set(value) == {"Fn::GetAtt"}:
        logical, attribute = value["Fn::GetAtt"]
        return f"{logical}-{attribute}"
    if set(value) == {"Fn::Sub"}:
        return str(value["Fn::Sub"]).replace("${", "").replace("}", "")
    return {k: _fake_resolve(v) for k, v in value.items()}


def test_alarms_and_insight_rules_are_created_from_the_translated_templates(aws, tmp_path):
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    cloudwatch = aws("cloudwatch")
    sam = templates.load_template(root / "services/order/template.yaml")
    cfn = templates.translate(
        sam, REGION, code={"Bucket": "b", "Key": "k"}, cache_dir=tmp_path / "sam-cache"
    )
    platform = templates.load_template(root / "infra/platform.yaml")

    created = moto_gaps.create_cloudwatch_resources(cfn, cloudwatch, "gap-order", _fake_resolve)
    created += moto_gaps.create_cloudwatch_resources(
        platform, cloudwatch, "gap-platform", _fake_resolve
    )

    alarms = {a["AlarmName"]: a for a in cloudwatch.describe_alarms()["MetricAlarms"]}
    assert {"gap-order-SagaP95Alarm", "gap-order-RelayFailureQueueDepthAlarm"} <= set(alarms)
    depth = alarms["gap-platform-OrderDeadLetterQueueDepthAlarm"]
    assert depth["Dimensions"] == [{"Name": "QueueName", "Value": "OrderDeadLetterQueue-QueueName"}]
    assert (depth["Threshold"], depth["ComparisonOperator"]) == (0.0, "GreaterThanThreshold")
    saga = alarms["gap-order-SagaP95Alarm"]
    assert [m["Id"] for m in saga["Metrics"]] == ["slowest", "basic", "premium"]
    # Fn::If on UseFauna (false: DynamoDB) leaves the poller's metric out of the errors alarm.
    errors = alarms["gap-order-AliasErrorsAlarm"]
    assert "outboxPollerFunction" not in {m["Id"] for m in errors["Metrics"]}
    rules = {r["Name"]: r for r in cloudwatch.describe_insight_rules()["InsightRules"]}
    requests = json.loads(rules["saas-top-tenants-requests"]["Definition"])
    assert requests["Contribution"]["Keys"] == ["$.tenant_id"]
    assert set(alarms) | set(rules) == set(created)
