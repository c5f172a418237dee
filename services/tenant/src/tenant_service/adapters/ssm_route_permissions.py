"""RoutePermissionsSource on SSM Parameter Store: each service's stack publishes its
permissions.json as the parameter `/saas/permissions/<service>`; this reads them all by path.

A parameter that does not read as a permission table is left out (its service's routes are then
denied) and logged, so one bad deployment cannot lock every service out.
"""

from __future__ import annotations

import logging
from typing import Any

from tenant_context.permissions import InvalidPermissions, RoutePermissions

log = logging.getLogger(__name__)


class SsmRoutePermissions:
    def __init__(self, client: Any, *, path: str) -> None:
        self._client = client
        self._path = path.rstrip("/")

    def load(self) -> list[RoutePermissions]:
        tables: list[RoutePermissions] = []
        request: dict[str, Any] = {"Path": self._path, "Recursive": False, "MaxResults": 10}
        while True:
            answer = self._client.get_parameters_by_path(**request)
            for parameter in answer.get("Parameters", []):
                try:
                    tables.append(
                        RoutePermissions.from_json(parameter["Value"], origin=parameter["Name"])
                    )
                except InvalidPermissions as exc:
                    log.error("route permissions left out: %s", exc)
            token = answer.get("NextToken")
            if not token:
                return tables
            request["NextToken"] = token
