"""`saas-replay` against a running AWS endpoint (moto's server, as the local platform runs it).

Given events recorded in the event log and `.local/platform.json` naming the endpoint, when
`saas-replay --tenant <id> --since 1h --print` runs, then the tenant's timeline prints, oldest
first, and nothing of other tenants; `--json` writes events that `--events` reads back; `--bus`
starts an archive replay that delivers the events again, marked with `replay-name`, to the rule
named and not to live rules.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.moto_server.threaded_moto_server import ThreadedMotoServer

from saas_devtools.event_log.dynamodb_event_log import DynamoDBEventLog
from saas_devtools.event_log.logged_event import LoggedEvent
from saas_devtools.replay import cli

REGION = "us-east-1"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def platform_file(endpoint: str, tmp_path: Path) -> Path:
    """What `make run` writes (the fields saas-replay reads)."""
    path = tmp_path / ".local" / "platform.json"
    path.parent.mkdir()
    path.write_text(json.dumps({"aws_endpoint_url": endpoint, "region": REGION}))
    return path


def _client(endpoint: str, service: str) -> Any:
    return boto3.client(
        service,
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


@pytest.fixture
def recorded(endpoint: str, saga) -> list[dict[str, Any]]:
    """A table like the event log's, holding two tenants' sagas from 30 minutes ago."""
    dynamodb = _client(endpoint, "dynamodb")
    table = f"event-log-{uuid.uuid4().hex[:8]}"
    dynamodb.create_table(
        TableName=table,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
    )
    start = datetime.now(UTC) - timedelta(minutes=30)
    events = saga("t-cli", start) + saga("t-other", start)
    log = DynamoDBEventLog(dynamodb, table)
    for event in events:
        log.record(LoggedEvent.from_eventbridge(event), now=datetime.now(UTC))
    old = saga("t-cli", start - timedelta(days=2))[0]  # outside --since 1h
    log.record(LoggedEvent.from_eventbridge(old), now=datetime.now(UTC))
    return [{"table": table}, *events]


def test_print_shows_the_tenants_timeline_from_the_local_platform(
    recorded, platform_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    table = recorded[0]["table"]

    status = cli.main(
        [
            "--tenant",
            "t-cli",
            "--since",
            "1h",
            "--print",
            "--platform-file",
            str(platform_file),
            "--table",
            table,
        ]
    )

    out, err = capsys.readouterr()
    assert status == 0
    lines = out.splitlines()
    assert [line.split()[2] for line in lines] == [
        "OrderPlaced",
        "StockReserved",
        "OrderPlaced",
        "StockReserved",
        "OrderCancelled",
    ]
    assert all("saas." in line.split()[1] for line in lines)
    placed = recorded[1]["detail"]["metadata"]
    assert f"event={placed['event_id']} correlation={placed['correlation_id']}" in lines[0]
    assert '"order_id":' in lines[0]
    assert "5 event(s) for tenant t-cli" in err


def test_filters_by_detail_type_and_correlation_id(
    recorded, platform_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    table = recorded[0]["table"]
    first_order = recorded[1]["detail"]["metadata"]["correlation_id"]
    base = [
        "--tenant",
        "t-cli",
        "--since",
        "1h",
        "--print",
        "--platform-file",
        str(platform_file),
        "--table",
        table,
    ]

    cli.main([*base, "--detail-type", "OrderPlaced", "--detail-type", "OrderCancelled"])
    by_type = [line.split()[2] for line in capsys.readouterr().out.splitlines()]
    cli.main([*base, "--correlation-id", first_order])
    by_correlation = [line.split()[2] for line in capsys.readouterr().out.splitlines()]

    assert by_type == ["OrderPlaced", "OrderPlaced", "OrderCancelled"]
    assert by_correlation == ["OrderPlaced", "StockReserved", "OrderCancelled"]


def test_json_lines_read_back_with_events_give_the_same_timeline(
    recorded, platform_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    table = recorded[0]["table"]
    source = ["--platform-file", str(platform_file), "--table", table]
    cli.main(["--tenant", "t-cli", "--since", "1h", "--json", *source])
    exported = tmp_path / "t-cli.jsonl"
    exported.write_text(capsys.readouterr().out)
    cli.main(["--tenant", "t-cli", "--since", "1h", "--print", *source])
    from_log = capsys.readouterr().out

    status = cli.main(["--tenant", "t-cli", "--print", "--events", str(exported)])

    assert status == 0
    assert capsys.readouterr().out == from_log


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "an hour"], "is not a duration like 90s, 15m, 1h, 2d or 1w"),
        (["--from", "yesterday"], "is not a time like 2026-11-23T20:00:00Z"),
        (["--since", "1h", "--from", "2026-11-23T20:00:00Z"], "either --since or --from"),
        (["--from", "2026-11-23T21:00:00Z", "--to", "2026-11-23T20:00:00Z"], "--to is before"),
    ],
)
def test_a_bad_window_is_refused_naming_the_problem(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status = cli.main(["--tenant", "t-1", "--print", "--events", "unused.jsonl", *args])

    assert status == 2
    assert message in capsys.readouterr().err


def test_without_a_running_platform_the_tool_says_how_to_start_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = cli.main(
        ["--tenant", "t-1", "--print", "--platform-file", str(tmp_path / "platform.json")]
    )

    assert status == 2
    assert "start the local platform with `make run`" in capsys.readouterr().err


def test_bus_replay_reaches_the_named_rule_and_not_live_rules(
    endpoint: str, platform_file: Path, make_event, capsys: pytest.CaptureFixture[str]
) -> None:
    events, sqs = _client(endpoint, "events"), _client(endpoint, "sqs")
    bus_arn = events.create_event_bus(Name="saas")["EventBusArn"]
    events.create_archive(ArchiveName="saas-all-events", EventSourceArn=bus_arn)

    def queue(name: str, rule: str, pattern: dict[str, Any]) -> str:
        url = sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        events.put_rule(Name=rule, EventBusName="saas", EventPattern=json.dumps(pattern))
        events.put_targets(Rule=rule, EventBusName="saas", Targets=[{"Id": "q", "Arn": arn}])
        return url

    live = queue(
        "live", "saas-live", {"source": [{"prefix": "saas."}], "replay-name": [{"exists": False}]}
    )
    debug = queue(
        "debug", "saas-debug-replay", {"source": ["saas.shop"], "replay-name": [{"exists": True}]}
    )
    event = make_event(
        "saas.shop",
        "OrderPlaced",
        {"order_id": "o-1", "lines": []},
        tenant_id="t-bus",
        at=datetime.now(UTC) - timedelta(minutes=5),
    )
    events.put_events(
        Entries=[
            {
                "EventBusName": "saas",
                "Source": event["source"],
                "DetailType": event["detail-type"],
                "Detail": json.dumps(event["detail"]),
            }
        ]
    )

    status = cli.main(
        [
            "--tenant",
            "t-bus",
            "--since",
            "1h",
            "--bus",
            "saas-debug-replay",
            "--platform-file",
            str(platform_file),
        ]
    )

    assert status == 0
    assert "saas-debug-replay" in capsys.readouterr().out
    replayed = [
        json.loads(m["Body"])
        for m in sqs.receive_message(QueueUrl=debug, MaxNumberOfMessages=10).get("Messages", [])
    ]
    live_bodies = [
        json.loads(m["Body"])
        for m in sqs.receive_message(QueueUrl=live, MaxNumberOfMessages=10).get("Messages", [])
    ]
    assert len(replayed) == 1
    assert replayed[0]["replay-name"].startswith("saas-replay-t-bus-")
    assert replayed[0]["detail"] == event["detail"]
    assert len(live_bodies) == 1
    assert "replay-name" not in live_bodies[0]


def test_the_deployed_functions_environment_is_found_by_its_handler(endpoint: str) -> None:
    """--into on a platform runs the handler with the deployed function's own settings."""
    import io
    import zipfile

    from saas_devtools.replay.into_handler import deployed_environment

    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("placeholder.txt", "run from the workspace")
    role = _client(endpoint, "iam").create_role(
        RoleName=f"replay-{uuid.uuid4().hex[:6]}",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]
    functions = _client(endpoint, "lambda")
    functions.create_function(
        FunctionName=f"warehouse-consumer-{uuid.uuid4().hex[:6]}",
        Runtime="python3.11",
        Role=role,
        Handler="warehouse.entrypoints.consumer.handler",
        Code={"ZipFile": code.getvalue()},
        Environment={"Variables": {"RESERVATIONS_TABLE": "saas-reservations-x1"}},
    )

    found = deployed_environment(functions, "warehouse.entrypoints.consumer.handler")
    missing = deployed_environment(functions, "nobody.entrypoints.consumer.handler")

    assert found == {"RESERVATIONS_TABLE": "saas-reservations-x1"}
    assert missing is None


def test_a_file_replayed_into_a_handler_off_memory_needs_a_platform_not_silently_aws(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = tmp_path / "events.jsonl"
    events.write_text("")

    status = cli.main(
        [
            "--tenant",
            "t-1",
            "--events",
            str(events),
            "--into",
            "product:consumer",
            "--platform-file",
            str(tmp_path / "platform.json"),
        ]
    )

    assert status == 2
    assert "start the local platform with `make run`" in capsys.readouterr().err


def test_a_platform_file_naming_a_stopped_platform_gives_a_sentence_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket

    with socket.socket() as probe:  # a port nothing listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    stale = tmp_path / "platform.json"
    stale.write_text(json.dumps({"aws_endpoint_url": f"http://127.0.0.1:{port}", "region": REGION}))

    status = cli.main(
        ["--tenant", "t-1", "--since", "1h", "--print", "--platform-file", str(stale)]
    )

    assert status == 2
    assert "is the local platform running (`make run`)?" in capsys.readouterr().err


def test_a_platform_without_the_event_log_table_says_so(
    platform_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = cli.main(
        [
            "--tenant",
            "t-1",
            "--since",
            "1h",
            "--print",
            "--platform-file",
            str(platform_file),
            "--table",
            "no-such-table",
        ]
    )

    assert status == 2
    assert "no event log table 'no-such-table' there" in capsys.readouterr().err
