"""Who may call what: the permission table (role x method x route) for every service's API.

Data, not code: the authorizer reads it to build the IAM policy, and
tests/architecture/test_route_permissions.py checks it against every template's Api events, so a
route without an entry (or an entry without a route) fails CI.

Route paths use `{name}` for a path parameter, as in the templates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SYSTEM_ADMIN = "SystemAdmin"
TENANT_ADMIN = "TenantAdmin"
TENANT_USER = "TenantUser"
ROLES = (SYSTEM_ADMIN, TENANT_ADMIN, TENANT_USER)

_ADMINS = frozenset({SYSTEM_ADMIN})
_TENANT_ADMINS = frozenset({TENANT_ADMIN})
_TENANT_MEMBERS = frozenset({TENANT_ADMIN, TENANT_USER})


@dataclass(frozen=True, slots=True)
class Permission:
    method: str
    path: str
    roles: frozenset[str]


# The tenant's own data (products, orders) is never granted to SystemAdmin: it belongs to no tenant.
PERMISSIONS: tuple[Permission, ...] = (
    # tenant service
    Permission("POST", "/tenants", _ADMINS),
    Permission("GET", "/tenants", _ADMINS),
    Permission("GET", "/tenants/{id}", _ADMINS | _TENANT_ADMINS),
    Permission("PATCH", "/tenants/{id}", _ADMINS),
    Permission("DELETE", "/tenants/{id}", _ADMINS),
    Permission("POST", "/tenants/{id}/suspend", _ADMINS),
    Permission("POST", "/tenants/{id}/activate", _ADMINS),
    Permission("POST", "/users", _TENANT_ADMINS),
    Permission("GET", "/users", _TENANT_ADMINS),
    # product service: the admin keeps the catalogue, everyone in the tenant reads it
    Permission("POST", "/products", _TENANT_ADMINS),
    Permission("GET", "/products", _TENANT_MEMBERS),
    Permission("GET", "/products/{id}", _TENANT_MEMBERS),
    Permission("PUT", "/products/{id}", _TENANT_ADMINS),
    Permission("DELETE", "/products/{id}", _TENANT_ADMINS),
    # order service: everyone in the tenant places, reads and cancels orders
    Permission("POST", "/orders", _TENANT_MEMBERS),
    Permission("GET", "/orders", _TENANT_MEMBERS),
    Permission("GET", "/orders/{id}", _TENANT_MEMBERS),
    Permission("POST", "/orders/{id}/cancel", _TENANT_MEMBERS),
)

_PARAM = re.compile(r"\{[^/}]+\}")


def route_key(method: str, path: str) -> tuple[str, str]:
    """(METHOD, path with every parameter written `{}`): parameter names do not matter."""
    return method.upper(), _PARAM.sub("{}", "/" + path.strip("/"))


_BY_ROUTE = {route_key(p.method, p.path): p for p in PERMISSIONS}


def allowed(role: str, method: str, path: str) -> bool:
    """Whether `role` may call the route template `path` (e.g. "/tenants/{id}")."""
    entry = _BY_ROUTE.get(route_key(method, path))
    return entry is not None and role in entry.roles


def routes_for(role: str) -> list[Permission]:
    return [p for p in PERMISSIONS if role in p.roles]


def match_route(method: str, concrete_path: str) -> Permission | None:
    """The table entry for a concrete request path ("/tenants/t-1"), or None."""
    parts = [p for p in concrete_path.split("/") if p]
    for entry in PERMISSIONS:
        if entry.method != method.upper():
            continue
        pattern = [p for p in entry.path.split("/") if p]
        if len(pattern) == len(parts) and all(
            want == got or _PARAM.fullmatch(want) for want, got in zip(pattern, parts, strict=True)
        ):
            return entry
    return None
