"""Route permissions: which roles may call which route of a service's API.

Each service declares its own in `src/<package>/entrypoints/permissions.json`, beside the API
it guards (docs/conventions.md, "Route permissions"):

    {"service": "order",
     "routes": [{"method": "POST", "path": "/orders", "roles": ["TenantAdmin", "TenantUser"]}]}

Pure data and matching: the service's API checks a caller against its own file, and the tenant
service's authorizer builds its policy from the files of every deployed service. Paths use
`{name}` for a path parameter, as the templates do; parameter names do not matter.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tenant_context.context import Role

# The roles a token can carry (Role.SERVICE never reaches an API).
GRANTABLE_ROLES = frozenset(
    {Role.SYSTEM_ADMIN.value, Role.TENANT_ADMIN.value, Role.TENANT_USER.value}
)
METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
FILE_NAME = "permissions.json"

_PARAM = re.compile(r"\{[^/}]+\}")


class InvalidPermissions(ValueError):
    """A permission file that does not follow the convention; the message says where."""


def route_key(method: str, path: str) -> tuple[str, str]:
    """(METHOD, path with every parameter written `{}`): parameter names do not matter."""
    return method.upper(), _PARAM.sub("{}", "/" + path.strip("/"))


@dataclass(frozen=True, slots=True)
class RoutePermission:
    method: str  # upper case
    path: str  # a route template: "/orders/{id}"
    roles: frozenset[str]

    @property
    def key(self) -> tuple[str, str]:
        return route_key(self.method, self.path)

    def matches(self, method: str, path: str) -> int | None:
        """None when `path` (concrete, "/orders/o-1", or a template) is not this route; else
        how many segments matched literally (a literal route beats a parameter)."""
        if method.upper() != self.method:
            return None
        pattern = [p for p in self.path.split("/") if p]
        parts = [p for p in path.split("/") if p]
        if len(pattern) != len(parts):
            return None
        literal = 0
        for want, got in zip(pattern, parts, strict=True):
            if _PARAM.fullmatch(want):
                continue
            if want != got:
                return None
            literal += 1
        return literal


@dataclass(frozen=True, slots=True)
class RoutePermissions:
    """A table of routes and the roles that may call them: one service's file, or several
    merged (`merge`)."""

    service: str
    routes: tuple[RoutePermission, ...]

    @classmethod
    def from_document(cls, document: Any, *, origin: str = "permissions") -> RoutePermissions:
        if not isinstance(document, Mapping):
            raise InvalidPermissions(f"{origin}: not a JSON object")
        service = document.get("service")
        if not isinstance(service, str) or not service:
            raise InvalidPermissions(f"{origin}: 'service' must be a non-empty string")
        routes = document.get("routes")
        if not isinstance(routes, list):
            raise InvalidPermissions(f"{origin}: 'routes' must be a list")
        parsed: list[RoutePermission] = []
        seen: set[tuple[str, str]] = set()
        for n, route in enumerate(routes):
            where = f"{origin}: routes[{n}]"
            if not isinstance(route, Mapping):
                raise InvalidPermissions(f"{where} is not an object")
            method, path, roles = route.get("method"), route.get("path"), route.get("roles")
            if not isinstance(method, str) or method.upper() not in METHODS:
                raise InvalidPermissions(f"{where}.method must be one of {sorted(METHODS)}")
            if not isinstance(path, str) or not path.startswith("/"):
                raise InvalidPermissions(f"{where}.path must start with '/'")
            if not isinstance(roles, list) or not roles:
                raise InvalidPermissions(f"{where}.roles must be a non-empty list")
            unknown = sorted(str(r) for r in roles if r not in GRANTABLE_ROLES)
            if unknown:
                raise InvalidPermissions(
                    f"{where}.roles has unknown roles {unknown}: use {sorted(GRANTABLE_ROLES)}"
                )
            entry = RoutePermission(method.upper(), path, frozenset(roles))
            if entry.key in seen:
                raise InvalidPermissions(f"{where}: {method.upper()} {path} is declared twice")
            seen.add(entry.key)
            parsed.append(entry)
        return cls(service=service, routes=tuple(parsed))

    @classmethod
    def from_json(cls, text: str | bytes, *, origin: str = "permissions") -> RoutePermissions:
        try:
            document = json.loads(text)
        except ValueError as exc:
            raise InvalidPermissions(f"{origin}: not JSON ({exc})") from None
        return cls.from_document(document, origin=origin)

    @classmethod
    def load(cls, path: Path) -> RoutePermissions:
        return cls.from_json(path.read_bytes(), origin=str(path.name))

    @classmethod
    def beside(cls, module_file: str) -> RoutePermissions:
        """The service's own file, beside the module that guards its API (`__file__`)."""
        return cls.load(Path(module_file).with_name(FILE_NAME))

    @classmethod
    def merge(cls, tables: Iterable[RoutePermissions]) -> RoutePermissions:
        """Every service's routes in one table (a route declared twice needs both grants)."""
        tables = list(tables)
        return cls(
            service=",".join(t.service for t in tables),
            routes=tuple(r for t in tables for r in t.routes),
        )

    def to_document(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "routes": [
                {"method": r.method, "path": r.path, "roles": sorted(r.roles)} for r in self.routes
            ],
        }

    def match(self, method: str, path: str) -> list[RoutePermission]:
        """The entries for a request (a concrete path or a route template): the most literal
        match wins; empty when no route matches."""
        best: list[RoutePermission] = []
        best_score = -1
        for route in self.routes:
            score = route.matches(method, path)
            if score is None or score < best_score:
                continue
            if score > best_score:
                best, best_score = [], score
            best.append(route)
        return best

    def allows(self, role: str, method: str, path: str) -> bool:
        """Whether `role` may call `method path`. Nothing is allowed that no entry declares."""
        entries = self.match(method, path)
        return bool(entries) and all(role in entry.roles for entry in entries)

    def routes_for(self, role: str) -> list[RoutePermission]:
        """Every route `role` may call (by `allows`, so a route declared twice agrees)."""
        return [r for r in self.routes if role in r.roles and self.allows(role, r.method, r.path)]
