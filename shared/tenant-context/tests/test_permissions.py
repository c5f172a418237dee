"""Route permissions: reading a service's file, matching requests, merging services' tables."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tenant_context.permissions import InvalidPermissions, RoutePermissions, route_key

ORDERS = {
    "service": "order",
    "routes": [
        {"method": "POST", "path": "/orders", "roles": ["TenantAdmin", "TenantUser"]},
        {"method": "GET", "path": "/orders/{order_id}", "roles": ["TenantAdmin", "TenantUser"]},
        {"method": "GET", "path": "/orders/summary", "roles": ["TenantAdmin"]},
    ],
}
TENANTS = {
    "service": "tenant",
    "routes": [{"method": "GET", "path": "/tenants/{id}", "roles": ["SystemAdmin"]}],
}


def test_a_route_key_ignores_parameter_names_and_case() -> None:
    assert route_key("get", "orders/{order_id}/") == ("GET", "/orders/{}")


@pytest.mark.parametrize(
    ("role", "method", "path", "allowed"),
    [
        ("TenantUser", "POST", "/orders", True),
        ("TenantUser", "GET", "/orders/o-1", True),
        ("TenantUser", "GET", "/orders/{id}", True),
        ("SystemAdmin", "GET", "/orders/o-1", False),
        # the literal route wins over the parameter at the same place
        ("TenantUser", "GET", "/orders/summary", False),
        ("TenantAdmin", "GET", "/orders/summary", True),
        ("TenantUser", "DELETE", "/orders/o-1", False),
        ("TenantUser", "GET", "/orders/o-1/lines", False),
        ("TenantUser", "GET", "/nowhere", False),
    ],
)
def test_who_may_call_what(role: str, method: str, path: str, allowed: bool) -> None:
    table = RoutePermissions.from_document(ORDERS)

    assert table.allows(role, method, path) is allowed


def test_merged_tables_answer_for_every_service_and_list_a_roles_routes() -> None:
    merged = RoutePermissions.merge(
        [RoutePermissions.from_json(json.dumps(ORDERS)), RoutePermissions.from_document(TENANTS)]
    )

    assert merged.allows("SystemAdmin", "GET", "/tenants/t-1")
    assert merged.allows("TenantUser", "POST", "/orders")
    assert [r.path for r in merged.routes_for("SystemAdmin")] == ["/tenants/{id}"]
    assert [r.path for r in merged.routes_for("TenantAdmin")] == [
        "/orders",
        "/orders/{order_id}",
        "/orders/summary",
    ]


def test_a_route_two_services_declare_needs_both_grants() -> None:
    other = {
        "service": "shadow",
        "routes": [{"method": "POST", "path": "/orders", "roles": ["TenantAdmin"]}],
    }
    merged = RoutePermissions.merge(
        [RoutePermissions.from_document(ORDERS), RoutePermissions.from_document(other)]
    )

    assert merged.allows("TenantAdmin", "POST", "/orders")
    assert not merged.allows("TenantUser", "POST", "/orders")
    assert all(r.path != "/orders" for r in merged.routes_for("TenantUser"))


def test_a_table_round_trips_through_its_document() -> None:
    table = RoutePermissions.from_document(ORDERS)

    assert RoutePermissions.from_document(table.to_document()) == table


@pytest.mark.parametrize(
    ("document", "says"),
    [
        ([], "not a JSON object"),
        ({"routes": []}, "'service'"),
        ({"service": "x", "routes": {}}, "'routes' must be a list"),
        ({"service": "x", "routes": ["GET /a"]}, "routes[0] is not an object"),
        (
            {
                "service": "x",
                "routes": [{"method": "FETCH", "path": "/a", "roles": ["TenantUser"]}],
            },
            "method",
        ),
        (
            {"service": "x", "routes": [{"method": "GET", "path": "a", "roles": ["TenantUser"]}]},
            "path",
        ),
        ({"service": "x", "routes": [{"method": "GET", "path": "/a", "roles": []}]}, "non-empty"),
        (
            {"service": "x", "routes": [{"method": "GET", "path": "/a", "roles": ["Service"]}]},
            "unknown roles ['Service']",
        ),
        (
            {
                "service": "x",
                "routes": [
                    {"method": "GET", "path": "/a/{id}", "roles": ["TenantUser"]},
                    {"method": "get", "path": "/a/{other}", "roles": ["TenantAdmin"]},
                ],
            },
            "declared twice",
        ),
    ],
)
def test_a_file_off_the_convention_is_refused_with_the_reason(document: Any, says: str) -> None:
    with pytest.raises(InvalidPermissions, match=None) as raised:
        RoutePermissions.from_document(document, origin="order")

    assert says in str(raised.value)
    assert str(raised.value).startswith("order")


def test_text_that_is_not_json_is_refused() -> None:
    with pytest.raises(InvalidPermissions, match="not JSON"):
        RoutePermissions.from_json("{", origin="order")
