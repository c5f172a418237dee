"""RoutePermissionsSource on SSM Parameter Store: each service's stack publishes its
permissions.json as the parameter `/saas/permissions/<service>`; this reads them all by path
(GetParametersByPath, page by page), through a signed call rather than an SSM client (see
AwsClients.call_json: the authorizer's cold start).

A parameter that does not read as a permission table is left out (its service's routes are then
denied) and logged, so one bad deployment cannot lock every service out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from tenant_context.permissions import InvalidPermissions, RoutePermissions

log = logging.getLogger(__name__)


# SSM's GetParametersByPath, given the request, returns its answer (AwsClients.call_json).
GetParametersByPath = Callable[[Mapping[str, Any]], Mapping[str, Any]]


class SsmRoutePermissions:
    def __init__(self, get_parameters_by_path: GetParametersByPath, *, path: str) -> None:
        self._get = get_parameters_by_path
        self._path = path.rstrip("/")

    def load(self) -> list[RoutePermissions]:
        tables: list[RoutePermissions] = []
        request: dict[str, Any] = {"Path": self._path, "Recursive": False, "MaxResults": 10}
        while True:
            answer = self._get(request)
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
