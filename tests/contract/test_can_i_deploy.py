"""`saas-contracts record` and `can-i-deploy` against a stage's deployed-contracts store (moto's
server on 127.0.0.1, reached through AWS_ENDPOINT_URL as on the local platform).

Given a producer (shop: OrderPlaced v1) and a consumer (stock: reads OrderPlaced) recorded as
deployed in a stage, when a new version of one of them is checked, then
(a) a consumer requiring a field the deployed producer lacks is refused, naming service, event
    and field;
(b) a producer dropping a field a deployed consumer reads is refused, naming the same;
(c) compatible versions (a new optional field; a consumer reading it as optional) are accepted;
and a route another deployed service serves is refused.
"""

from __future__ import annotations

import json
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto.moto_server.threaded_moto_server import ThreadedMotoServer

from saas_devtools.contracts import cli
from saas_devtools.contracts.export import export

STAGE = "ci"

PRODUCER_V1 = """
    from typing import ClassVar
    from pydantic import BaseModel

    class OrderPlaced(BaseModel):
        event_version: ClassVar[int] = 1
        order_id: str
        quantity: int
        note: str | None = None

    PUBLISHED = {"OrderPlaced": OrderPlaced}
"""

CONSUMER_V1 = """
    from typing import ClassVar
    from pydantic import BaseModel

    class OrderPlacedReader(BaseModel):
        event_version: ClassVar[int] = 1
        order_id: str
        quantity: int

    CONSUMED = {("saas.shop", "OrderPlaced"): OrderPlacedReader}
"""


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def stage(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A stage of its own (its own bucket) on moto's server, as `make` reaches the local one."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("SAAS_CONTRACTS_BUCKET", f"contracts-{uuid.uuid4().hex[:8]}")
    return STAGE


@pytest.fixture
def workspaces(tmp_path: Path) -> Iterator[list[str]]:
    packages: list[str] = []
    yield packages
    for name in list(sys.modules):
        if name.split(".")[0] in packages:
            del sys.modules[name]


def _tree(root: Path, packages: list[str], services: dict[str, dict[str, str]]) -> Path:
    """A workspace holding `services` ({name: {module path: source}}), contracts exported."""
    for name, modules in services.items():
        package = f"{name}_{uuid.uuid4().hex[:8]}"
        packages.append(package)
        src = root / "services" / name / "src" / package
        for folder in ("", "domain", "entrypoints"):
            (src / folder).mkdir(parents=True, exist_ok=True)
            (src / folder / "__init__.py").touch()
        for relative, source in modules.items():
            (src / relative).write_text(textwrap.dedent(source), encoding="utf-8")
    export(root)
    return root


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out + err


@pytest.fixture
def deployed(
    tmp_path: Path, stage: str, workspaces: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """shop v1 and stock v1 recorded as deployed in the stage."""
    root = _tree(
        tmp_path / "deployed",
        workspaces,
        {
            "shop": {"domain/events.py": PRODUCER_V1},
            "stock": {"entrypoints/event_readers.py": CONSUMER_V1},
        },
    )
    for service in ("shop", "stock"):
        code, output = _run(
            capsys, "record", "--service", service, "--stage", stage, "--workspace", str(root)
        )
        assert code == 0, output
        assert f"recorded {service}" in output


def test_the_record_holds_version_and_contracts(
    deployed: None, endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    import os

    s3 = boto3.client(
        "s3",
        region_name="us-east-1",
        endpoint_url=endpoint,
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    bucket = os.environ["SAAS_CONTRACTS_BUCKET"]
    record = json.loads(s3.get_object(Bucket=bucket, Key="contracts/shop.json")["Body"].read())
    assert record["service"] == "shop"
    assert record["version"].startswith("0")
    assert set(record["events"]) == {"OrderPlaced.v1"}
    assert record["events"]["OrderPlaced.v1"]["required"] == ["order_id", "quantity"]
    consumer = json.loads(s3.get_object(Bucket=bucket, Key="contracts/stock.json")["Body"].read())
    assert list(consumer["readers"]) == ["saas.shop|OrderPlaced|1"]
    versioning = s3.get_bucket_versioning(Bucket=bucket)
    assert versioning["Status"] == "Enabled"


def test_a_consumer_requiring_a_field_the_deployed_producer_lacks_is_refused(
    deployed: None,
    stage: str,
    tmp_path: Path,
    workspaces: list[str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    needs_more = CONSUMER_V1.replace("quantity: int", "quantity: int\n        coupon: str")
    root = _tree(
        tmp_path / "candidate", workspaces, {"stock": {"entrypoints/event_readers.py": needs_more}}
    )

    code, output = _run(
        capsys, "can-i-deploy", "--service", "stock", "--stage", stage, "--workspace", str(root)
    )

    assert code == 1
    assert "refused: stock" in output
    assert "reads OrderPlaced v1 of shop" in output
    assert "field 'coupon': required by the reader, absent from the writer" in output


def test_a_consumer_reading_an_event_the_producer_does_not_publish_is_refused(
    deployed: None,
    stage: str,
    tmp_path: Path,
    workspaces: list[str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    other_event = CONSUMER_V1.replace('"OrderPlaced")', '"OrderShipped")')
    root = _tree(
        tmp_path / "candidate", workspaces, {"stock": {"entrypoints/event_readers.py": other_event}}
    )

    code, output = _run(
        capsys, "can-i-deploy", "--service", "stock", "--stage", stage, "--workspace", str(root)
    )

    assert code == 1
    assert "OrderShipped v1 of shop" in output
    assert "does not publish (it publishes OrderPlaced.v1)" in output


def test_a_producer_dropping_a_field_a_deployed_consumer_reads_is_refused(
    deployed: None,
    stage: str,
    tmp_path: Path,
    workspaces: list[str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    drops_quantity = PRODUCER_V1.replace("        quantity: int\n", "")
    root = _tree(tmp_path / "candidate", workspaces, {"shop": {"domain/events.py": drops_quantity}})

    code, output = _run(
        capsys, "can-i-deploy", "--service", "shop", "--stage", stage, "--workspace", str(root)
    )

    assert code == 1
    assert "read by the deployed consumer stock" in output
    assert "OrderPlaced v1" in output
    assert "field 'quantity': read by the consumer, removed" in output


def test_compatible_versions_are_accepted(
    deployed: None,
    stage: str,
    tmp_path: Path,
    workspaces: list[str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    producer = PRODUCER_V1.replace(
        "note: str | None = None", "note: str | None = None\n        coupon: str | None = None"
    )
    consumer = CONSUMER_V1.replace(
        "quantity: int", "quantity: int\n        note: str | None = None"
    )
    root = _tree(
        tmp_path / "candidate",
        workspaces,
        {
            "shop": {"domain/events.py": producer},
            "stock": {"entrypoints/event_readers.py": consumer},
        },
    )

    for service in ("shop", "stock"):
        code, output = _run(
            capsys, "can-i-deploy", "--service", service, "--stage", stage, "--workspace", str(root)
        )
        assert code == 0, output
        assert f"can-i-deploy: {service} " in output
        assert "accepted" in output


def test_a_route_another_deployed_service_serves_is_refused(
    deployed: None,
    stage: str,
    tmp_path: Path,
    workspaces: list[str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    def permissions(name: str) -> str:
        route = {"method": "GET", "path": "/orders", "roles": ["TenantAdmin"]}
        return json.dumps({"service": name, "routes": [route]})

    first = _tree(
        tmp_path / "first",
        workspaces,
        {
            "shop": {
                "domain/events.py": PRODUCER_V1,
                "entrypoints/permissions.json": permissions("shop"),
            }
        },
    )
    second = _tree(
        tmp_path / "second",
        workspaces,
        {"billing": {"entrypoints/permissions.json": permissions("billing")}},
    )
    recorded, _ = _run(
        capsys, "record", "--service", "shop", "--stage", stage, "--workspace", str(first)
    )
    assert recorded == 0

    code, output = _run(
        capsys, "can-i-deploy", "--service", "billing", "--stage", stage, "--workspace", str(second)
    )

    assert code == 1
    assert "billing" in output
    assert "declares the route GET /orders" in output
    assert "deployed service shop" in output


def test_nothing_recorded_yet_is_accepted(
    stage: str, tmp_path: Path, workspaces: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    root = _tree(tmp_path / "first", workspaces, {"shop": {"domain/events.py": PRODUCER_V1}})

    code, output = _run(
        capsys, "can-i-deploy", "--service", "shop", "--stage", stage, "--workspace", str(root)
    )

    assert code == 0, output
    assert "no other service recorded yet" in output


def test_contracts_drifted_from_the_code_are_neither_checked_nor_recorded(
    stage: str, tmp_path: Path, workspaces: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    root = _tree(tmp_path / "first", workspaces, {"shop": {"domain/events.py": PRODUCER_V1}})
    schema = root / "services" / "shop" / "contracts" / "events" / "OrderPlaced.v1.json"
    schema.write_text(schema.read_text().replace('"quantity"', '"amount"'))

    for command in ("can-i-deploy", "record"):
        code, output = _run(
            capsys, command, "--service", "shop", "--stage", stage, "--workspace", str(root)
        )
        assert code == 1
        assert "OrderPlaced.v1.json: differs" in output
        assert f"{command}: the contracts of shop drifted from its code" in output
