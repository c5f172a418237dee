"""CloudFormation clients acting as a region group's deployment role (STS AssumeRole with its
ExternalId; the session name names the tenant for CloudTrail), one per tenant and region, cached
(bounded) until shortly before their credentials expire."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from provisioner.adapters.aws_clients import AwsClients
from provisioner.domain.environment import StackRef

# Credentials are refreshed this long before they expire.
_EXPIRY_MARGIN_SECONDS = 300


@dataclass(frozen=True, slots=True)
class DeploymentRole:
    role_arn: str
    external_id: str


class MissingDeploymentRole(LookupError):
    def __init__(self, region_group: str) -> None:
        super().__init__(f"no deployment role is configured for region group {region_group!r}")


class DeploymentSessions:
    def __init__(
        self,
        sts: Any,
        roles: Mapping[str, DeploymentRole],
        clients: AwsClients,
        max_cached: int = 64,
    ) -> None:
        self._sts = sts
        self._roles = roles
        self._clients = clients
        self._max_cached = max_cached
        self._cache: OrderedDict[tuple[str, str, str], tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def cloudformation(self, ref: StackRef) -> Any:
        key = (ref.region_group.value, ref.region, ref.tenant_id)
        with self._lock:
            cached = self._cache.get(key)
            if cached and cached[0] - _EXPIRY_MARGIN_SECONDS > time.time():
                self._cache.move_to_end(key)
                return cached[1]
        role = self._roles.get(ref.region_group.value)
        if role is None:
            raise MissingDeploymentRole(ref.region_group.value)
        credentials = self._sts.assume_role(
            RoleArn=role.role_arn,
            RoleSessionName=f"provision-{ref.tenant_id}"[:64],
            ExternalId=role.external_id,
        )["Credentials"]
        client = self._clients.client_as("cloudformation", ref.region, credentials)
        with self._lock:
            self._cache[key] = (credentials["Expiration"].timestamp(), client)
            while len(self._cache) > self._max_cached:
                self._cache.popitem(last=False)
        return client
