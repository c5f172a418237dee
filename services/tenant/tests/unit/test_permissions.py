"""The permission table: lookups by route template and by concrete path."""

from __future__ import annotations

import pytest

from tenant_service.domain import permissions as p


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
    assert p.allowed(role, method, path) is allowed


def test_a_concrete_path_finds_its_route() -> None:
    entry = p.match_route("post", "/orders/o-1/cancel")

    assert entry is not None
    assert (entry.method, entry.path) == ("POST", "/orders/{id}/cancel")
    assert p.match_route("GET", "/orders/o-1/cancel") is None
    assert p.match_route("GET", "/tenants/a/b/c") is None


def test_no_tenant_data_route_is_granted_to_the_system_admin() -> None:
    tenant_data = [e for e in p.PERMISSIONS if e.path.startswith(("/products", "/orders"))]

    assert tenant_data
    assert all(p.SYSTEM_ADMIN not in e.roles for e in tenant_data)


def test_each_route_is_declared_once() -> None:
    keys = [p.route_key(e.method, e.path) for e in p.PERMISSIONS]

    assert len(keys) == len(set(keys))
