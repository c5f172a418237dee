"""Export and drift check on a fixture workspace.

Given services whose code defines events and an HTTP API, when `export` runs, then each
published event's schema and the OpenAPI document are written; when the code changes afterwards,
`check` names every file that drifted.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from saas_devtools.contracts import cli
from saas_devtools.contracts.export import check, export

EVENTS = """
    from typing import ClassVar
    from pydantic import BaseModel

    class OrderPlaced(BaseModel):
        event_version: ClassVar[int] = 1
        order_id: str

    class OrderRejected(BaseModel):
        event_version: ClassVar[int] = 2
        order_id: str
        reason: str

    PUBLISHED = {"OrderPlaced": OrderPlaced, "OrderRejected": OrderRejected}
"""

API = """
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver
    from pydantic import BaseModel

    app = APIGatewayRestResolver(enable_validation=True)

    class Order(BaseModel):
        order_id: str

    @app.get("/orders/<order_id>")
    def get_order(order_id: str) -> Order:
        return Order(order_id=order_id)
"""


def _relative(root: Path, paths: list[Path]) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in paths)


def test_export_writes_each_event_schema_by_major_and_the_openapi_document(workspace) -> None:
    root, write_service = workspace
    write_service("shop", {"domain/events.py": EVENTS, "entrypoints/api.py": API})
    write_service("empty", {})

    written = export(root)

    assert _relative(root, written) == [
        "services/shop/contracts/events/OrderPlaced.v1.json",
        "services/shop/contracts/events/OrderRejected.v2.json",
        "services/shop/contracts/openapi.json",
    ]
    placed = json.loads((root / "services/shop/contracts/events/OrderPlaced.v1.json").read_text())
    assert placed["required"] == ["order_id"]
    openapi = json.loads((root / "services/shop/contracts/openapi.json").read_text())
    assert "/orders/{order_id}" in openapi["paths"]
    assert check(root) == []
    assert export(root) == []  # nothing changed, nothing rewritten


def test_check_names_every_file_that_drifted_from_the_code(workspace) -> None:
    root, write_service = workspace
    package = write_service("shop", {"domain/events.py": EVENTS})
    export(root)
    events = root / "services/shop/contracts/events"
    (events / "OrderPlaced.v1.json").unlink()
    (events / "OrderRejected.v2.json").write_text("{}\n")
    (events / "OrderShipped.v1.json").write_text("{}\n")  # its event is no longer published

    drifts = sorted((d.path.name, d.problem) for d in check(root))

    assert drifts == [
        ("OrderPlaced.v1.json", "missing"),
        ("OrderRejected.v2.json", "differs"),
        ("OrderShipped.v1.json", "stale"),
    ]
    assert package in sys.modules


def test_an_earlier_major_kept_side_by_side_is_not_stale(workspace) -> None:
    root, write_service = workspace
    write_service("shop", {"domain/events.py": EVENTS})
    export(root)
    (root / "services/shop/contracts/events/OrderRejected.v1.json").write_text("{}\n")

    assert check(root) == []


def test_the_check_command_fails_listing_drifted_files(workspace, capsys) -> None:
    root, write_service = workspace
    write_service("shop", {"domain/events.py": EVENTS})

    status = cli.main(["check", "--workspace", str(root)])

    assert status == 1
    err = capsys.readouterr().err
    assert "services/shop/contracts/events/OrderPlaced.v1.json: missing" in err
    assert cli.main(["export", "--workspace", str(root)]) == 0
    assert cli.main(["check", "--workspace", str(root)]) == 0
