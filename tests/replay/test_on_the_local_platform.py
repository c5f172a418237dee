"""The event log on the local platform, end to end, as `make run` deploys it.

Given the local platform running infra/platform.yaml and the event log's own template
(services/event-log/template.yaml), when a producer puts a tenant's events on the bus, then the
platform's saas-event-log rule, queue and the recorder function keep them, and
`saas-replay --tenant <id> --since 1h --print` (what `make replay ARGS=...` runs) prints the
tenant's timeline from the endpoint named in the platform file.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from saas_devtools.replay import cli
from tenant_context import new_metadata, write_envelope

ROOT = Path(__file__).resolve().parents[2]
testing = pytest.importorskip("saas_local.testing", reason="the local platform is not installed")


@pytest.mark.slow
def test_a_tenants_events_are_logged_and_printed_from_the_running_platform(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with testing.start_platform(
        service_templates=[ROOT / "services/event-log/template.yaml"],
        region_map={"us": "us-east-1"},
    ) as platform:
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
                    "Detail": json.dumps(write_envelope(metadata, {"order_id": "o-1"})),
                }
                for detail_type, metadata in [
                    ("OrderConfirmed", confirmed),
                    ("OrderPlaced", placed),
                    ("OrderPlaced", other),
                ]
            ]
        )
        dynamodb = platform.client("dynamodb")
        platform.wait_until(
            lambda: dynamodb.scan(TableName="saas-event-log", Select="COUNT")["Count"] == 3,
            timeout=60,
        )
        platform_file = tmp_path / "platform.json"
        platform_file.write_text(json.dumps(platform.info))

        status = cli.main(
            [
                "--tenant",
                "t-local",
                "--since",
                "1h",
                "--print",
                "--platform-file",
                str(platform_file),
            ]
        )

    out, err = capsys.readouterr()
    assert status == 0
    lines = [line for line in out.splitlines() if line.startswith("20")]
    assert [line.split()[2] for line in lines] == ["OrderPlaced", "OrderConfirmed"]
    assert f"event={placed.event_id}" in lines[0]
    assert f"cause={placed.event_id}" in lines[1]
    assert "2 event(s) for tenant t-local" in err
