"""Where the authorizer finds the route permissions of the services deployed: one table per
service, as each service's own stack publishes it."""

from __future__ import annotations

from typing import Protocol

from tenant_context.permissions import RoutePermissions


class RoutePermissionsSource(Protocol):
    def load(self) -> list[RoutePermissions]:
        """Every deployed service's table; raises when they cannot be read at all."""
        ...
