"""The API through its Lambda handler, with API Gateway's events."""

from __future__ import annotations

import json
from typing import Any

import pytest

from metering_service.entrypoints.api import PERMISSIONS, handler


class Context:
    function_name = "api"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:api"
    aws_request_id = "req-1"


def _call(
    method: str, path: str, body: Any = None, role: str = "TenantAdmin", **headers: str
) -> tuple[int, Any]:
    event = {
        "httpMethod": method,
        "path": path,
        "resource": path,
        "headers": {"Content-Type": "application/json", **headers},
        "queryStringParameters": None,
        "pathParameters": None,
        "body": body if isinstance(body, str) or body is None else json.dumps(body),
        "isBase64Encoded": False,
        "requestContext": {
            "requestId": "req-1",
            "authorizer": {
                "tenant_id": "t-1",
                "role": role,
                "user_id": "u-1",
                "tier": "basic",
                "region_group": "us",
            },
        },
    }
    response = handler(event, Context())
    return response["statusCode"], json.loads(response["body"] or "null")


def test_a_created_metering_can_be_read_back():
    status, created = _call("POST", "/meterings", {"name": "First"})

    assert status == 201
    assert _call("GET", f"/meterings/{created['id']}", role="TenantUser") == (200, created)


@pytest.mark.parametrize(
    ("body", "status"),
    [([{"name": "x"}, "junk"], 422), ("not json", 400), ({"name": ""}, 422), ({}, 422)],
)
def test_a_body_that_is_not_one_metering_is_refused_with_a_message(body, status):
    answered, problem = _call("POST", "/meterings", body)

    assert answered == status
    assert problem["message"]


def test_a_body_sent_as_something_else_than_json_is_refused():
    status, problem = _call("POST", "/meterings", "name=x", **{"Content-Type": "text/plain"})

    assert status == 415
    assert "application/json" in problem["message"]


def test_a_role_the_permissions_do_not_list_is_forbidden():
    assert not PERMISSIONS.allows("TenantUser", "POST", "/meterings")

    status, problem = _call("POST", "/meterings", {"name": "First"}, role="TenantUser")

    assert status == 403
    assert "TenantUser" in problem["message"]


def test_an_unknown_metering_is_not_found():
    status, problem = _call("GET", "/meterings/nope")

    assert status == 404
    assert "nope" in problem["message"]
