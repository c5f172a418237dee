"""saas-usage (make usage): the usage API's answer as a table, the API's refusal as its
message, against any API URL and token."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from saas_devtools.usage.cli import main, table


def _day(date: str, requests: float, cost: float) -> dict[str, Any]:
    measures = {
        name: 0.0
        for name in (
            "errors_4xx",
            "errors_5xx",
            "read_capacity_units",
            "write_capacity_units",
            "lambda_invocations",
            "lambda_billed_ms",
            "lambda_gb_seconds",
            "events_published",
            "fauna_compute_ops",
            "fauna_read_ops",
            "fauna_write_ops",
        )
    }
    return {
        "date": date,
        **measures,
        "requests": requests,
        "read_capacity_units": 1.5,
        "cost": {
            "total": cost,
            "by_service": {"order": cost},
            "by_item": {
                "dynamodb": 0.0,
                "lambda": 0.0,
                "eventbridge": 0.0,
                "api_gateway": cost,
                "fauna": 0.0,
            },
        },
    }


ANSWER = {
    "tenant_id": "acme",
    "from": "2026-12-03",
    "to": "2026-12-04",
    "currency": "USD",
    "days": [_day("2026-12-03", 0, 0.0), _day("2026-12-04", 4, 0.000014)],
    "total": _day("total", 4, 0.000014),
}


def test_the_table_has_a_row_per_day_the_total_and_the_cost_split() -> None:
    lines = table(ANSWER).splitlines()
    assert lines[0] == "usage of acme from 2026-12-03 to 2026-12-04 (USD, estimated)"
    assert lines[1].split()[:3] == ["date", "requests", "4xx"]
    assert lines[2].split()[:2] == ["2026-12-03", "0"]
    assert lines[3].split()[:2] == ["2026-12-04", "4"]
    assert lines[3].split()[4] == "1.5"  # read request units
    assert lines[5].split()[0] == "total"
    assert lines[5].split()[-1] == "0.000014"
    assert lines[-2] == "cost by service: order 0.000014"


@pytest.fixture
def api() -> Iterator[tuple[str, list[str]]]:
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(f"{self.path} {self.headers.get('Authorization')}")
            status, body = (
                (200, ANSWER) if "acme" in self.path else (404, {"message": "no tenant x"})
            )
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(json.dumps(body).encode())

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()


def test_it_asks_the_api_with_the_token_and_prints_the_table(
    api: tuple[str, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    url, seen = api
    args = ["--api-url", url, "--token", "t0k", "--from", "2026-12-03", "--to", "2026-12-04"]
    assert main(["--tenant", "acme", *args]) == 0
    assert seen == ["/tenants/acme/usage?from=2026-12-03&to=2026-12-04 Bearer t0k"]
    assert capsys.readouterr().out.startswith("usage of acme")

    assert main(["--tenant", "x", "--api-url", url, "--token", "t"]) == 1
    assert capsys.readouterr().err.strip() == "saas-usage: 404: no tenant x"


def test_without_a_running_platform_it_says_what_to_do(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "platform.json"
    assert main(["--shared", "--platform-file", str(missing)]) == 2
    assert "make run" in capsys.readouterr().err
