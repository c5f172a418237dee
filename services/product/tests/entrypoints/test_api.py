"""The /products API through its Lambda handler, with API Gateway REST proxy events."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest

from product_service.adapters.memory_product_store import MemoryProductStore
from product_service.entrypoints import api
from tenant_context import Role, TenantContext

MUG = {"name": "Mug", "sku": "MUG-1", "price": "12.50", "stock": 5}


@pytest.fixture
def store(wired: Callable[..., Any]) -> MemoryProductStore:
    store = MemoryProductStore()
    wired(store)
    return store


@pytest.fixture
def call(
    store: MemoryProductStore, make_api_event: Callable[..., dict[str, Any]], lambda_context: Any
) -> Callable[..., tuple[int, Any]]:
    def call(method: str, path: str, who: TenantContext | None, **kwargs: Any) -> tuple[int, Any]:
        response = api.handler(make_api_event(method, path, who, **kwargs), lambda_context)
        body = response.get("body")
        return response["statusCode"], (json.loads(body) if body else None)

    return call


@pytest.fixture
def admin(make_tenant: Callable[..., TenantContext]) -> TenantContext:
    return make_tenant("acme")


@pytest.fixture
def user(admin: TenantContext, make_tenant: Callable[..., TenantContext]) -> TenantContext:
    return make_tenant(admin.tenant_id, role=Role.TENANT_USER)


def test_an_admin_creates_a_product_and_a_user_reads_it(
    call: Callable[..., tuple[int, Any]], admin: TenantContext, user: TenantContext
) -> None:
    status, created = call("POST", "/products", admin, body=MUG)

    assert status == 201
    assert created == {**MUG, "id": created["id"]}
    assert call("GET", f"/products/{created['id']}", user) == (200, created)


def test_create_publishes_product_created_through_the_outbox(
    call: Callable[..., tuple[int, Any]], admin: TenantContext, store: MemoryProductStore
) -> None:
    _, created = call("POST", "/products", admin, body=MUG)

    (event,) = store.outbox
    assert event.detail_type == "ProductCreated"
    assert event.detail["data"] == {"product_id": created["id"], **MUG}
    assert event.detail["metadata"]["tenant_id"] == "acme"
    assert event.detail["metadata"]["tier"] == admin.tier.value
    assert event.detail["metadata"]["region_group"] == admin.region_group.value


def test_replace_then_delete(
    call: Callable[..., tuple[int, Any]], admin: TenantContext, store: MemoryProductStore
) -> None:
    _, created = call("POST", "/products", admin, body=MUG)
    path = f"/products/{created['id']}"
    changed = {"name": "Cup", "sku": "CUP-1", "price": 3, "stock": 0}

    assert call("PUT", path, admin, body=changed) == (
        200,
        {**changed, "price": "3.00", "id": created["id"]},
    )
    assert call("DELETE", path, admin) == (204, None)
    assert call("GET", path, admin)[0] == 404
    assert [e.detail_type for e in store.outbox] == [
        "ProductCreated",
        "ProductUpdated",
        "ProductDeleted",
    ]


def test_listing_pages_with_limit_and_next_token(
    call: Callable[..., tuple[int, Any]], admin: TenantContext
) -> None:
    ids = {call("POST", "/products", admin, body=MUG)[1]["id"] for _ in range(3)}

    status, first = call("GET", "/products", admin, query={"limit": "2"})
    _, second = call(
        "GET", "/products", admin, query={"limit": "2", "next_token": first["next_token"]}
    )

    assert status == 200
    assert len(first["items"]) == 2
    assert second["next_token"] is None
    assert {p["id"] for p in first["items"] + second["items"]} == ids


@pytest.mark.parametrize(
    ("method", "path_of", "body"),
    [
        ("GET", lambda pid: f"/products/{pid}", None),
        ("PUT", lambda pid: f"/products/{pid}", MUG),
        ("DELETE", lambda pid: f"/products/{pid}", None),
    ],
)
def test_another_tenants_product_is_not_found_on_every_id_route(
    call: Callable[..., tuple[int, Any]],
    make_tenant: Callable[..., TenantContext],
    method: str,
    path_of: Callable[[str], str],
    body: Any,
) -> None:
    tenant_a, tenant_b = make_tenant("tenant-a"), make_tenant("tenant-b")
    _, theirs = call("POST", "/products", tenant_b, body={**MUG, "name": "B's"})

    status, answer = call(method, path_of(theirs["id"]), tenant_a, body=body)

    assert status == 404
    assert theirs["id"] in answer["message"]
    assert call("GET", f"/products/{theirs['id']}", tenant_b) == (200, theirs)


def test_another_tenants_products_never_show_in_a_list(
    call: Callable[..., tuple[int, Any]], make_tenant: Callable[..., TenantContext]
) -> None:
    tenant_a, tenant_b = make_tenant("tenant-a"), make_tenant("tenant-b")
    mine = call("POST", "/products", tenant_a, body=MUG)[1]
    for _ in range(3):
        call("POST", "/products", tenant_b, body=MUG)

    seen, token = [], None
    while True:
        query = {"limit": "1", **({"next_token": token} if token else {})}
        _, page = call("GET", "/products", tenant_a, query=query)
        seen += page["items"]
        token = page["next_token"]
        if not token:
            break

    assert seen == [mine]


def test_a_tenant_user_may_read_but_not_write(
    call: Callable[..., tuple[int, Any]],
    admin: TenantContext,
    user: TenantContext,
    store: MemoryProductStore,
) -> None:
    _, created = call("POST", "/products", admin, body=MUG)
    path = f"/products/{created['id']}"

    assert call("POST", "/products", user, body=MUG)[0] == 403
    assert call("PUT", path, user, body={**MUG, "stock": 99})[0] == 403
    assert call("DELETE", path, user)[0] == 403
    assert call("GET", path, user) == (200, created)
    assert len(store.outbox) == 1


def test_a_request_without_a_tenant_context_is_refused(
    call: Callable[..., tuple[int, Any]], store: MemoryProductStore
) -> None:
    status, answer = call("POST", "/products", None, body=MUG)

    assert status == 403
    assert "authorizer" in answer["message"]
    assert store.outbox == []


BAD_BODIES = [
    pytest.param('{"name": "Mug", ', "JSON decode error", id="malformed JSON"),
    pytest.param({k: v for k, v in MUG.items() if k != "sku"}, "sku", id="missing field"),
    pytest.param({**MUG, "tenant_id": "other"}, "tenant_id", id="extra field"),
    pytest.param({**MUG, "price": "-1.00"}, "price", id="negative price"),
    pytest.param({**MUG, "price": "1.005"}, "price", id="three decimal places"),
    pytest.param({**MUG, "stock": -1}, "stock", id="negative stock"),
    pytest.param({**MUG, "stock": "5"}, "stock", id="stock as text"),
    pytest.param({**MUG, "name": ""}, "name", id="blank name"),
    pytest.param([MUG], "body", id="not an object"),
    pytest.param({**MUG, "price": 3.2e307}, "price", id="price beyond any store"),
    pytest.param({**MUG, "price": "1000000000.00"}, "price", id="price above the maximum"),
    pytest.param({**MUG, "stock": 10**12}, "stock", id="stock above the maximum"),
]


@pytest.mark.parametrize(("body", "named"), BAD_BODIES)
@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_bad_input_gets_a_4xx_naming_the_problem_and_writes_nothing(
    call: Callable[..., tuple[int, Any]],
    admin: TenantContext,
    store: MemoryProductStore,
    body: Any,
    named: str,
    method: str,
) -> None:
    _, existing = call("POST", "/products", admin, body=MUG)
    path = "/products" if method == "POST" else f"/products/{existing['id']}"
    kwargs = {"raw_body": body} if isinstance(body, str) else {"body": body}

    status, answer = call(method, path, admin, **kwargs)

    assert 400 <= status < 500
    assert named in json.dumps(answer)
    assert len(store.outbox) == 1  # only the setup's ProductCreated
    assert call("GET", f"/products/{existing['id']}", admin) == (200, existing)


@pytest.mark.parametrize(
    ("query", "status", "named"),
    [
        ({"limit": "0"}, 422, "limit"),
        ({"limit": "101"}, 422, "limit"),
        ({"limit": "ten"}, 422, "limit"),
        ({"next_token": "%%%not-base64"}, 400, "next_token"),
        ({"next_token": "eyJhIjoiYiJ9"}, 400, "next_token"),  # valid base64 of a foreign key
    ],
)
def test_bad_paging_parameters_are_refused_naming_them(
    call: Callable[..., tuple[int, Any]],
    admin: TenantContext,
    query: dict[str, str],
    status: int,
    named: str,
) -> None:
    got, answer = call("GET", "/products", admin, query=query)

    assert got == status
    assert named in json.dumps(answer)


def test_malformed_json_is_a_400_and_a_wrong_field_a_422(
    call: Callable[..., tuple[int, Any]], admin: TenantContext
) -> None:
    malformed = call("POST", "/products", admin, raw_body="{")
    negative = call("POST", "/products", admin, body={**MUG, "price": "-1"})

    assert malformed[0] == 400
    assert negative == (
        422,
        {
            "statusCode": 422,
            "message": "invalid request: body.price: Input should be greater than or equal to 0",
            "detail": [
                {
                    "loc": ["body", "price"],
                    "type": "greater_than_equal",
                    "msg": "Input should be greater than or equal to 0",
                }
            ],
        },
    )


def test_the_openapi_document_lists_every_route() -> None:
    document = json.loads(api.app.get_openapi_json_schema(title="product"))

    assert set(document["paths"]) == {"/products", "/products/{product_id}"}
    assert set(document["paths"]["/products"]) == {"get", "post"}
    assert set(document["paths"]["/products/{product_id}"]) == {"get", "put", "delete"}


@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_a_body_that_is_not_utf8_is_a_400_that_says_so(
    call: Callable[..., tuple[int, Any]],
    admin: TenantContext,
    store: MemoryProductStore,
    make_api_event: Callable[..., dict[str, Any]],
    lambda_context: Any,
    method: str,
) -> None:
    # API Gateway hands a body that is not text to the function base64-encoded
    _, existing = call("POST", "/products", admin, body=MUG)
    path = "/products" if method == "POST" else f"/products/{existing['id']}"
    event = make_api_event(method, path, admin)
    event.update(body=base64.b64encode(b"\xfd\xff{").decode(), isBase64Encoded=True)

    response = api.handler(event, lambda_context)

    assert response["statusCode"] == 400
    assert json.loads(response["body"]) == {
        "statusCode": 400,
        "message": "the body is not UTF-8 text",
        "detail": None,
    }
    assert len(store.outbox) == 1


def test_every_route_documents_each_status_it_answers() -> None:
    document = json.loads(api.app.get_openapi_json_schema(title="product"))
    documented = {
        (method.upper(), path): set(operation["responses"])
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    }

    assert documented == {
        ("POST", "/products"): {"201", "400", "401", "403", "415", "422"},
        ("GET", "/products"): {"200", "400", "401", "403", "422"},
        ("GET", "/products/{product_id}"): {"200", "401", "403", "404", "422"},
        ("PUT", "/products/{product_id}"): {"200", "400", "401", "403", "404", "409", "415", "422"},
        ("DELETE", "/products/{product_id}"): {"204", "401", "403", "404", "409", "422"},
    }
    problem = document["paths"]["/products"]["post"]["responses"]["422"]["content"]
    assert problem["application/json"]["schema"] == {"$ref": "#/components/schemas/Problem"}


@pytest.mark.parametrize(
    "content_type", ["multipart/form-data", "text/plain", "application/x-www-form-urlencoded"]
)
def test_a_body_sent_as_anything_but_json_is_a_415(
    admin: TenantContext,
    store: MemoryProductStore,
    make_api_event: Callable[..., dict[str, Any]],
    lambda_context: Any,
    content_type: str,
) -> None:
    event = make_api_event("POST", "/products", admin, body=MUG)
    event["headers"]["Content-Type"] = content_type  # multipart without boundary was a 500

    response = api.handler(event, lambda_context)

    assert response["statusCode"] == 415
    assert content_type in json.loads(response["body"])["message"]
    assert store.outbox == []


def test_json_with_a_charset_is_json(
    admin: TenantContext,
    store: MemoryProductStore,
    make_api_event: Callable[..., dict[str, Any]],
    lambda_context: Any,
) -> None:
    event = make_api_event("POST", "/products", admin, body=MUG)
    event["headers"]["Content-Type"] = "application/json; charset=utf-8"
    assert api.handler(event, lambda_context)["statusCode"] == 201
    assert len(store.outbox) == 1


def test_a_negative_zero_price_is_created_as_zero(
    call: Callable[..., tuple[int, Any]], admin: TenantContext
) -> None:
    # It once passed validation, was stored, and then failed the response schema: a 500
    status, created = call("POST", "/products", admin, body={**MUG, "price": "-0.00"})

    assert (status, created["price"]) == (201, "0.00")
