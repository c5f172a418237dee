"""RoutePermissionsSource in memory, for tests and `BACKEND=memory`: the tables it is given."""

from __future__ import annotations

from collections.abc import Iterable

from tenant_context.permissions import RoutePermissions


class MemoryRoutePermissions:
    def __init__(self, tables: Iterable[RoutePermissions] = ()) -> None:
        self.tables = list(tables)
        self.loads = 0

    def load(self) -> list[RoutePermissions]:
        self.loads += 1
        return list(self.tables)
