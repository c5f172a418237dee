"""The event log and replay on the local platform, end to end, as `make run` deploys them.

Given the local platform running infra/platform.yaml, the event log's own template
(services/event-log/template.yaml) and the product service (with the tenant service it needs for
its authorizer), when a producer puts a tenant's events on the bus, then the platform's
saas-event-log rule, queue and recorder function keep them, and
`saas-replay --tenant <id> --since 1h --print` (what `make replay ARGS=...` runs) prints the
tenant's timeline; and `--into product:consumer` runs the real consumer in this process against
the platform, with the deployed function's own settings.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from saas_devtools.event_log.dynamodb_event_log import DynamoDBEventLog
from saas_devtools.event_log.logged_event import LoggedEvent
from saas_devtools.replay import cli
from tenant_context import new_metadata, write_envelope

ROOT = Path(__file__).resolve().parents[2]
testing = pytest.importorskip("saas_local.testing", reason="the local platform is not installed")
TEMPLATES = [
    "services/tenant/template.yaml",
    "services/product/template.yaml",
    "services/event-log/template.yaml",
]


@pytest.fixture(scope="module")
def platform() -> Iterator[Any]:
    with testing.start_platform(
        service_templates=[ROOT / t for t in TEMPLATES], region_map={"us": "us-east-1"}
    ) as handle:
        yield handle


@pytest.fixture
def platform_file(platform: Any, tmp_path: Path) -> Path:
    path = tmp_path / "platform.json"
    path.write_text(json.dumps(platform.info))
    return path


def _detail(metadata: Any, data: dict[str, Any]) -> dict[str, Any]:
    detail = write_envelope(metadata, data)
    detail["metadata"] |= {"tier": "basic", "region_group": "us"}
    return detail


@pytest.mark.slow
def test_a_tenants_events_are_logged_and_printed_from_the_running_platform(
    platform: Any, platform_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bus = platform.client("events")
    placed_at = datetime.now(UTC) - timedelta(minutes=2)
    placed = new_metadata(tenant_id="t-local", producer="saas.order", occurred_at=placed_at)
    confirmed = new_metadata(
        tenant_id="t-local",
        producer="saas.order",
        correlation_id=placed.correlation_id,
        causation_id=placed.event_id,
    )
    other = new_metadata(tenant_id="t-someone-else", producer="saas.order")
    bus.put_events(
        Entries=[
            {
                "EventBusName": "saas",
                "Source": "saas.order",
                "DetailType": detail_type,
                "Detail": json.dumps(_detail(metadata, {"order_id": "o-1", "lines": []})),
            }
            for detail_type, metadata in [
                ("OrderConfirmed", confirmed),
                ("OrderPlaced", placed),
                ("OrderPlaced", other),
            ]
        ]
    )
    dynamodb = platform.client("dynamodb")

    def logged(tenant_id: str) -> int:
        return int(
            dynamodb.query(
                TableName="saas-event-log",
                Select="COUNT",
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": {"S": f"TENANT#{tenant_id}"}},
            )["Count"]
        )

    platform.wait_until(
        lambda: logged("t-local") == 2 and logged("t-someone-else") == 1, timeout=60
    )

    status = cli.main(
        ["--tenant", "t-local", "--since", "1h", "--print", "--platform-file", str(platform_file)]
    )

    out, err = capsys.readouterr()
    assert status == 0
    lines = [line for line in out.splitlines() if line.startswith("20")]
    assert [line.split()[2] for line in lines] == ["OrderPlaced", "OrderConfirmed"]
    assert f"event={placed.event_id}" in lines[0]
    assert f"cause={placed.event_id}" in lines[1]
    assert "2 event(s) for tenant t-local" in err


@pytest.mark.slow
def test_a_logged_event_replayed_into_the_real_product_consumer_reaches_the_platform(
    platform: Any, platform_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The event goes into the log only (not the bus): what the consumer writes is the replay's."""
    metadata = new_metadata(
        tenant_id="t-into",
        producer="saas.order",
        occurred_at=datetime.now(UTC) - timedelta(minutes=1),
    )
    event = {
        "version": "0",
        "id": "e-1",
        "source": "saas.order",
        "detail-type": "OrderPlaced",
        "account": "000000000000",
        "time": metadata.occurred_at.isoformat(),
        "region": "us-east-1",
        "resources": [],
        "detail": _detail(
            metadata, {"order_id": "o-9", "lines": [{"product_id": "p-unknown", "quantity": 1}]}
        ),
    }
    dynamodb = platform.client("dynamodb")
    DynamoDBEventLog(dynamodb, "saas-event-log").record(
        LoggedEvent.from_eventbridge(event), now=datetime.now(UTC)
    )

    def written_for_tenant() -> list[dict[str, Any]]:
        items = dynamodb.scan(TableName="saas-products")["Items"]
        return [i for i in items if "t-into" in json.dumps(i)]

    assert written_for_tenant() == []

    status = cli.main(
        [
            "--tenant",
            "t-into",
            "--since",
            "1h",
            "--into",
            "product:consumer",
            "--platform-file",
            str(platform_file),
            "--workspace",
            str(ROOT),
        ]
    )

    out, err = capsys.readouterr()
    assert status == 0, out
    assert "1 ok, 0 failed" in err
    assert metadata.event_id in json.dumps(written_for_tenant())
