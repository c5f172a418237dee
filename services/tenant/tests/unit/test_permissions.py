"""The deployed services' permission tables, merged as the authorizer merges them: lookups by
route template and by concrete path."""

from __future__ import annotations

import pytest
from tenant_testkit import deployed_route_permissions

from tenant_context.permissions import RoutePermissions, route_key

TABLE = RoutePermissions.merge(deployed_route_permissions())


@pytest.mark.parametrize(
    ("role", "method", "path", "allowed"),
    [
        ("SystemAdmin", "POST", "/tenants", True),
        ("TenantAdmin", "POST", "/tenants", False),
        ("TenantAdmin", "GET", "/tenants/{tenant_id}", True),
        ("TenantUser", "GET", "/products", True),
        ("TenantUser", "POST", "/products", False),
        ("TenantAdmin", "POST", "/products", True),
        ("SystemAdmin", "GET", "/products", False),
        ("SystemAdmin", "GET", "/orders/{id}", False),
        ("TenantUser", "DELETE", "/nowhere", False),
    ],
)
def test_who_may_call_what(role: str, method: str, path: str, allowed: bool) -> None:
    assert TABLE.allows(role, method, path) is allowed


def test_a_concrete_path_finds_its_route() -> None:
    [entry] = TABLE.match("post", "/orders/o-1/cancel")

    assert (entry.method, route_key(entry.method, entry.path)) == (
        "POST",
        ("POST", "/orders/{}/cancel"),
    )
    assert TABLE.match("GET", "/orders/o-1/cancel") == []
    assert TABLE.match("GET", "/tenants/a/b/c") == []


def test_no_tenant_data_route_is_granted_to_the_system_admin() -> None:
    tenant_data = [e for e in TABLE.routes if e.path.startswith(("/products", "/orders"))]

    assert tenant_data
    assert all("SystemAdmin" not in e.roles for e in tenant_data)


def test_each_route_is_declared_once() -> None:
    keys = [route_key(e.method, e.path) for e in TABLE.routes]

    assert len(keys) == len(set(keys))
