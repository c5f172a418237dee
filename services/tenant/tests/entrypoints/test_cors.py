"""Every answer of the tenant API carries the CORS headers for the console's origin (the
template's ConsoleOrigin, CORS_ALLOW_ORIGIN; "*" in these tests): successes, the domain's and
validation's errors, and the 415 answered before the resolver."""

from __future__ import annotations

from typing import Any

import pytest
from tenant_testkit import SYSTEM_ADMIN, LambdaContext, Wiring, rest_event

ORIGIN = "https://console.example"


@pytest.mark.parametrize(
    ("method", "path", "body", "headers", "status"),
    [
        ("GET", "/tenants", None, {}, 200),
        ("GET", "/tenants/nope", None, {}, 404),
        ("POST", "/tenants", {"name": ""}, {}, 422),
        ("PATCH", "/tenants/t1", {"tier": "basic"}, {"Content-Type": "text/plain"}, 415),
    ],
)
def test_every_answer_carries_the_cors_headers(
    api: Any,
    wiring: Wiring,
    method: str,
    path: str,
    body: Any,
    headers: dict[str, str],
    status: int,
) -> None:
    event = rest_event(
        method, path, caller=SYSTEM_ADMIN, body=body, headers={"Origin": ORIGIN, **headers}
    )

    answer = api.handler(event, LambdaContext())

    assert answer["statusCode"] == status
    sent = {
        **answer.get("headers", {}),
        **{k: v[0] for k, v in answer.get("multiValueHeaders", {}).items()},
    }
    assert sent["Access-Control-Allow-Origin"] == "*"
    allowed = set(sent["Access-Control-Allow-Headers"].split(","))
    assert {"Authorization", "Content-Type", "Idempotency-Key", "X-Correlation-Id"} <= allowed


def test_no_origin_no_cors_headers(api: Any, wiring: Wiring) -> None:
    answer = api.handler(rest_event("GET", "/tenants", caller=SYSTEM_ADMIN), LambdaContext())

    sent = {**answer.get("headers", {}), **answer.get("multiValueHeaders", {})}
    assert "Access-Control-Allow-Origin" not in sent
