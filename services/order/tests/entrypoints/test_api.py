"""The HTTP API through its Lambda handler, with API Gateway REST proxy events as the Lambda
authorizer leaves them, on the memory backend."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from order_testkit import api_event, tenant

from order_service.entrypoints import api
from tenant_context import Role


@pytest.fixture
def call(memory_container, lambda_context):
    def call(*args, **kwargs):
        response = api.handler(api_event(*args, **kwargs), lambda_context)
        return int(response["statusCode"]), json.loads(response["body"] or "null")

    return call


def written(memory_container):
    store = memory_container.memory_store
    return store.outbox, store.orders


def test_placing_an_order_answers_202_pending_and_it_reads_back(call, acme):
    status, body = call(
        "POST", "/orders", ctx=acme, body={"lines": [{"product_id": "p-1", "quantity": 2}]}
    )

    assert (status, body["status"]) == (202, "PENDING")
    status, order = call("GET", f"/orders/{body['id']}", ctx=acme)
    assert status == 200
    placed_at = datetime.fromisoformat(order.pop("placed_at"))
    assert order == {
        "id": body["id"],
        "status": "PENDING",
        "lines": [{"product_id": "p-1", "quantity": 2}],
        "reason": None,
    }
    assert abs(datetime.now(UTC) - placed_at) < timedelta(minutes=5)


def test_a_tenant_admin_may_order_too_and_a_system_admin_may_not(call):
    admin = tenant("t-acme", role=Role.TENANT_ADMIN)
    system = tenant("t-acme", role=Role.SYSTEM_ADMIN)
    order = {"lines": [{"product_id": "p-1", "quantity": 1}]}

    assert call("POST", "/orders", ctx=admin, body=order)[0] == 202
    status, body = call("POST", "/orders", ctx=system, body=order)
    assert status == 403
    assert "SystemAdmin" in body["message"]


def test_a_request_without_an_authorizer_context_is_refused(call):
    status, body = call("GET", "/orders", ctx=None)

    assert status == 403
    assert "authorizer" in body["message"]


TOO_MANY = {"lines": [{"product_id": f"p-{i}", "quantity": 1} for i in range(26)]}


@pytest.mark.parametrize(
    ("request_kwargs", "status", "named"),
    [
        ({"raw_body": "{not json"}, 400, "not valid JSON"),
        ({"body": {}}, 422, "body.lines: Field required"),
        ({"body": {"lines": [{"product_id": "p-1"}]}}, 422, "quantity: Field required"),
        (
            {"body": {"lines": [{"product_id": "p-1", "quantity": 1}], "tenant_id": "t-other"}},
            422,
            "tenant_id: Extra inputs are not permitted",
        ),
        (
            {"body": {"lines": [{"product_id": "p-1", "quantity": 1, "price": 1}]}},
            422,
            "price: Extra inputs are not permitted",
        ),
        (
            {"body": {"lines": [{"product_id": "p-1", "quantity": 0}]}},
            422,
            "quantity: Input should be greater than or equal to 1",
        ),
        ({"body": {"lines": [{"product_id": "p-1", "quantity": "2"}]}}, 422, "valid integer"),
        ({"body": {"lines": []}}, 422, "at least 1 item"),
        ({"body": TOO_MANY}, 422, "at most 25 items"),
        (
            {"body": [{"lines": [{"product_id": "p-1", "quantity": 1}]}, "junk"]},
            422,
            "the body must be a JSON object, not an array",
        ),
        (
            {"body": [{"lines": [{"product_id": "p-1", "quantity": 1}]}]},
            422,
            "the body must be a JSON object, not an array",
        ),
        ({"body": ["junk"]}, 422, "the body must be a JSON object, not an array"),
        ({"body": "an order"}, 422, "the body must be a JSON object, not a string"),
        ({"body": 42}, 422, "the body must be a JSON object, not a number"),
        ({"raw_body": "null"}, 422, "the body must be a JSON object, not null"),
        (
            {
                "body": {
                    "lines": [
                        {"product_id": "p-1", "quantity": 1},
                        {"product_id": "p-1", "quantity": 2},
                    ]
                }
            },
            422,
            "one line only",
        ),
    ],
)
def test_a_bad_order_gets_a_4xx_naming_the_problem_and_writes_nothing(
    call, memory_container, acme, request_kwargs, status, named
):
    got, body = call("POST", "/orders", ctx=acme, **request_kwargs)

    assert got == status
    assert named in body["message"]
    outbox, orders = written(memory_container)
    assert outbox == []
    assert orders.get("t-acme", {}) == {}


@pytest.mark.parametrize(
    ("query", "status", "named"),
    [
        ({"limit": "0"}, 422, "limit: Input should be greater than or equal to 1"),
        ({"limit": "101"}, 422, "limit: Input should be less than or equal to 100"),
        ({"limit": "ten"}, 422, "limit: Input should be a valid integer"),
        ({"next_token": "!!!"}, 400, "next_token"),
        ({"next_token": "eyJwayI6IlRFTkFOVCN0LW90aGVyIiwic2siOiJPUkRFUiN4In0"}, 400, "next_token"),
    ],
)
def test_a_bad_page_request_gets_a_4xx_naming_the_parameter(call, acme, query, status, named):
    got, body = call("GET", "/orders", ctx=acme, query=query)

    assert got == status
    assert named in body["message"]


def test_orders_are_listed_page_by_page(call, acme):
    ids = {
        call("POST", "/orders", ctx=acme, body={"lines": [{"product_id": "p-1", "quantity": 1}]})[
            1
        ]["id"]
        for _ in range(3)
    }

    first = call("GET", "/orders", ctx=acme, query={"limit": "2"})[1]
    second = call(
        "GET", "/orders", ctx=acme, query={"limit": "2", "next_token": first["next_token"]}
    )[1]

    assert len(first["items"]) == 2
    assert second["next_token"] is None
    listed = first["items"] + second["items"]
    assert {o["id"] for o in listed} == ids
    times = [o["placed_at"] for o in listed]
    assert times == sorted(times, reverse=True)  # newest first


def test_cancelling_answers_the_cancelled_order_and_a_rejected_one_cannot_be(
    call, memory_container, acme
):
    order_id = call(
        "POST", "/orders", ctx=acme, body={"lines": [{"product_id": "p-1", "quantity": 1}]}
    )[1]["id"]

    status, body = call("POST", f"/orders/{order_id}/cancel", ctx=acme)

    assert (status, body["status"]) == (200, "CANCELLED")
    kinds = [m.detail_type for m in memory_container.memory_store.outbox]
    assert kinds == ["OrderPlaced", "OrderCancelled"]


def test_a_rejected_order_cannot_be_cancelled(call, memory_container, acme):
    from tenant_context import Cause

    order_id = call(
        "POST", "/orders", ctx=acme, body={"lines": [{"product_id": "p-1", "quantity": 9}]}
    )[1]["id"]
    memory_container.reactions.stock_reservation_rejected(
        acme, order_id, "short", Cause(event_id="e")
    )

    status, body = call("POST", f"/orders/{order_id}/cancel", ctx=acme)

    assert status == 409
    assert "REJECTED" in body["message"]


def test_a_post_retried_with_its_idempotency_key_answers_the_same_order_once(
    memory_container, lambda_context, acme
):
    event = api_event(
        "POST", "/orders", ctx=acme, body={"lines": [{"product_id": "p-1", "quantity": 1}]}
    )
    event["headers"]["Idempotency-Key"] = "retry-me"

    first = json.loads(api.handler(event, lambda_context)["body"])
    second = json.loads(api.handler(event, lambda_context)["body"])

    assert first == second
    assert [m.detail_type for m in memory_container.memory_store.outbox] == ["OrderPlaced"]


def test_a_body_that_is_not_utf8_is_a_400_that_says_so(memory_container, lambda_context, acme):
    # API Gateway hands a body that is not text to the function base64-encoded
    import base64

    event = api_event("POST", "/orders", ctx=acme)
    event.update(body=base64.b64encode(b"\xfd\xff{").decode(), isBase64Encoded=True)

    response = api.handler(event, lambda_context)

    assert response["statusCode"] == 400
    assert json.loads(response["body"]) == {
        "statusCode": 400,
        "message": "the body is not UTF-8 text",
        "detail": None,
    }
    outbox, orders = written(memory_container)
    assert not outbox
    assert not orders


def test_every_route_documents_each_status_it_answers():
    document = json.loads(api.app.get_openapi_json_schema(title="order"))
    documented = {
        (method.upper(), path): set(operation["responses"])
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    }

    assert documented == {
        ("POST", "/orders"): {"202", "400", "401", "403", "409", "415", "422"},
        ("GET", "/orders"): {"200", "400", "401", "403", "422"},
        ("GET", "/orders/{order_id}"): {"200", "401", "403", "404", "422"},
        ("POST", "/orders/{order_id}/cancel"): {"200", "401", "403", "404", "409", "422"},
    }
    problem = document["paths"]["/orders"]["post"]["responses"]["422"]["content"]
    assert problem["application/json"]["schema"] == {"$ref": "#/components/schemas/Problem"}


def test_an_order_for_a_product_the_order_service_never_heard_of_is_accepted(
    call, memory_container, acme
):
    # The product service decides in the saga (REJECTED with its reason when it does not exist)
    status, body = call(
        "POST", "/orders", ctx=acme, body={"lines": [{"product_id": "p-new", "quantity": 1}]}
    )

    assert (status, body["status"]) == (202, "PENDING")
    outbox, _ = written(memory_container)
    assert [m.detail_type for m in outbox] == ["OrderPlaced"]


def test_an_array_body_gets_the_message_and_shape_of_every_problem(call, acme):
    valid = {"lines": [{"product_id": "p-1", "quantity": 1}]}

    status, body = call("POST", "/orders", ctx=acme, body=[valid, "junk"])

    assert status == 422
    assert body == {
        "statusCode": 422,
        "message": "the body must be a JSON object, not an array",
        "detail": None,
    }


def test_a_body_sent_as_anything_but_json_is_a_415(memory_container, lambda_context, acme):
    event = api_event("POST", "/orders", ctx=acme, body={"lines": []})
    event["headers"] = {**(event.get("headers") or {}), "Content-Type": "multipart/form-data"}

    response = api.handler(event, lambda_context)

    assert response["statusCode"] == 415
    assert "multipart/form-data" in json.loads(response["body"])["message"]
