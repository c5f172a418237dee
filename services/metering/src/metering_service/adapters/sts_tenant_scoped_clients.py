"""TenantScopedClients by STS: AssumeRole of the metering service's tenant-access role with the
session tag `tenant_id`; the role's policy allows the usage table (Query, GetItem) only where
`dynamodb:LeadingKeys` is `TENANT#${aws:PrincipalTag/tenant_id}`, and the tenant directory
(GetItem) only where it is `${aws:PrincipalTag/tenant_id}` (the record's key is the tenant id).

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

from metering_service.adapters.aws_clients import AwsClients
from metering_service.domain.errors import OutsideTheTenant

SESSION_SECONDS = 3600  # the longest a role chained from a Lambda role may ask for (1 h)
RENEW_BEFORE_SECONDS = 300
TENANT_TAG = "tenant_id"


class StsTenantScopedClients:
    def __init__(
        self,
        aws: AwsClients,
        *,
        role_arn: str,
        region: str,
        max_cached: int = 512,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._aws = aws
        self._role_arn = role_arn
        self._region = region  # the usage table lives in the service's own region
        self._max_cached = max_cached
        self._clock = clock
        # tenant id -> (when the credentials expire, epoch seconds; the client)
        self._cache: OrderedDict[str, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def dynamodb(self, tenant_id: str) -> Any:
        with self._lock:  # one STS call at a time: a second caller for the tenant finds it cached
            cached = self._cache.get(tenant_id)
            if cached is not None and cached[0] - RENEW_BEFORE_SECONDS > self._clock():
                self._cache.move_to_end(tenant_id)
                return cached[1]
            credentials = self._aws.client("sts", self._region).assume_role(
                RoleArn=self._role_arn,
                RoleSessionName=f"tenant-{tenant_id}"[:64],
                DurationSeconds=SESSION_SECONDS,
                Tags=[{"Key": TENANT_TAG, "Value": tenant_id}],
            )["Credentials"]
            client = self._aws.client_as("dynamodb", self._region, credentials)
            client.meta.events.register("after-call.dynamodb", _refused_outside_the_tenant)
            self._cache[tenant_id] = (credentials["Expiration"].timestamp(), client)
            while len(self._cache) > self._max_cached:
                self._cache.popitem(last=False)
            return client


def _refused_outside_the_tenant(http_response: Any, parsed: Mapping[str, Any], **_: Any) -> None:
    """botocore's after-call hook: AWS refused the tenant's session a key outside its own."""
    error = parsed.get("Error") or {}
    if http_response.status_code >= 300 and error.get("Code") == "AccessDeniedException":
        raise OutsideTheTenant(str(error.get("Message", "")))
