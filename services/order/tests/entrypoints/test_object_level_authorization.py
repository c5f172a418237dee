"""Object-level authorization over every route: tenant B's token on tenant A's order is a 404,
and A's orders never show in B's list. The routes come from the API itself, so a new route that
takes an id is covered, or this test fails."""

from __future__ import annotations

import json

import pytest
from order_testkit import api_event, tenant

from order_service.entrypoints import api

A, B = tenant("t-a"), tenant("t-b")


def id_routes() -> list[tuple[str, str]]:
    schema = json.loads(api.app.get_openapi_json_schema())
    return sorted(
        (method.upper(), path)
        for path, operations in schema["paths"].items()
        if "{order_id}" in path
        for method in operations
    )


def list_routes() -> list[tuple[str, str]]:
    schema = json.loads(api.app.get_openapi_json_schema())
    return [("GET", p) for p, ops in schema["paths"].items() if "{" not in p and "get" in ops]


def test_the_api_has_the_id_routes_this_test_expects():
    assert id_routes() == [("GET", "/orders/{order_id}"), ("POST", "/orders/{order_id}/cancel")]


@pytest.fixture
def a_order(memory_container, lambda_context):
    event = api_event(
        "POST", "/orders", ctx=A, body={"lines": [{"product_id": "p-1", "quantity": 1}]}
    )
    return json.loads(api.handler(event, lambda_context)["body"])["id"]


@pytest.mark.parametrize(("method", "route"), id_routes())
def test_another_tenants_token_on_an_order_gets_404_and_changes_nothing(
    memory_container, lambda_context, a_order, method, route
):
    path = route.replace("{order_id}", a_order)

    response = api.handler(api_event(method, path, ctx=B), lambda_context)

    assert int(response["statusCode"]) == 404
    assert a_order in json.loads(response["body"])["message"]
    still = api.handler(api_event("GET", f"/orders/{a_order}", ctx=A), lambda_context)
    assert json.loads(still["body"])["status"] == "PENDING"


@pytest.mark.parametrize(("method", "route"), list_routes())
def test_another_tenants_orders_never_show_in_a_list(
    memory_container, lambda_context, a_order, method, route
):
    mine = api.handler(api_event(method, route, ctx=A), lambda_context)
    theirs = api.handler(api_event(method, route, ctx=B), lambda_context)

    assert [o["id"] for o in json.loads(mine["body"])["items"]] == [a_order]
    assert json.loads(theirs["body"])["items"] == []
