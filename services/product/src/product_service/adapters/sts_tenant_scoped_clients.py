"""TenantScopedClients by STS: AssumeRole of the service's tenant-access role with the session
tag `tenant_id`; the role's policy allows the tables only where `dynamodb:LeadingKeys` is
`TENANT#${aws:PrincipalTag/tenant_id}` (and the tenant's own `tenant-<id>-*` tables).

One STS call per tenant per container per credential lifetime: the client is kept (bounded,
least recently used first out) and renewed RENEW_BEFORE_SECONDS before the credentials expire,
never per request. A request the scoped credentials are refused (AccessDeniedException: a key of
another tenant) raises OutsideTheTenant."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

from product_service.adapters.aws_clients import AwsClients
from product_service.domain.errors import OutsideTheTenant
from tenant_context import TenantContext

SESSION_SECONDS = 3600  # the longest a role chained from a Lambda role may ask for (1 h)
RENEW_BEFORE_SECONDS = 300
TENANT_TAG = "tenant_id"


class StsTenantScopedClients:
    def __init__(
        self,
        aws: AwsClients,
        *,
        role_arn: str,
        sts_region: str,
        region_map: Mapping[str, str],
        max_cached: int = 512,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._aws = aws
        self._role_arn = role_arn
        self._sts_region = sts_region
        self._region_map = dict(region_map)
        self._max_cached = max_cached
        self._clock = clock
        # (tenant id, region) -> (when the credentials expire, epoch seconds; the client)
        self._cache: OrderedDict[tuple[str, str], tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def dynamodb(self, tenant: TenantContext) -> Any:
        key = (tenant.tenant_id, self._region(tenant))
        with self._lock:  # one STS call at a time: a second caller for the tenant finds it cached
            cached = self._cache.get(key)
            if cached is not None and cached[0] - RENEW_BEFORE_SECONDS > self._clock():
                self._cache.move_to_end(key)
                return cached[1]
            credentials = self._aws.client("sts", self._sts_region).assume_role(
                RoleArn=self._role_arn,
                RoleSessionName=f"tenant-{tenant.tenant_id}"[:64],
                DurationSeconds=SESSION_SECONDS,
                Tags=[{"Key": TENANT_TAG, "Value": tenant.tenant_id}],
            )["Credentials"]
            client = self._aws.client_as("dynamodb", key[1], credentials)
            client.meta.events.register("after-call.dynamodb", _refused_outside_the_tenant)
            self._cache[key] = (credentials["Expiration"].timestamp(), client)
            while len(self._cache) > self._max_cached:
                self._cache.popitem(last=False)
            return client

    def _region(self, tenant: TenantContext) -> str:
        try:
            return self._region_map[tenant.region_group.value]
        except KeyError:
            raise LookupError(
                f"region group {tenant.region_group.value!r} is not in the region map"
            ) from None


def _refused_outside_the_tenant(http_response: Any, parsed: Mapping[str, Any], **_: Any) -> None:
    """botocore's after-call hook: AWS refused the tenant's session a key outside its own."""
    error = parsed.get("Error") or {}
    if http_response.status_code >= 300 and error.get("Code") == "AccessDeniedException":
        raise OutsideTheTenant(str(error.get("Message", "")))
