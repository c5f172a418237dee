"""The one place the service builds AWS clients: one botocore client per AWS service and region,
per process, reused across warm invocations; endpoint from AWS_ENDPOINT_URL (the local platform).
The tenant's region group picks the region (configuration: REGION_MAP).

botocore directly: boto3 would add its own import cost (s3transfer) for nothing used here."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from tenant_context import TenantContext
from tenant_context.metering import meter_session


class AwsClients:
    def __init__(self, region_map: Mapping[str, str], endpoint_url: str | None = None) -> None:
        self._region_map = dict(region_map)
        self._endpoint_url = endpoint_url
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()
        self._session: Any = None

    def region_of(self, tenant: TenantContext) -> str:
        try:
            return self._region_map[tenant.region_group.value]
        except KeyError:
            raise LookupError(
                f"region group {tenant.region_group.value!r} is not in the region map"
            ) from None

    def client_as(self, service: str, region: str, credentials: Mapping[str, Any]) -> Any:
        """A client acting with temporary credentials (STS AssumeRole's `Credentials`); not
        cached here, since the credentials expire: the caller keeps it as long as they last."""
        with self._lock:
            return self._botocore_session().create_client(
                service,
                region_name=region,
                endpoint_url=self._endpoint_url,
                aws_access_key_id=credentials["AccessKeyId"],
                aws_secret_access_key=credentials["SecretAccessKey"],
                aws_session_token=credentials["SessionToken"],
            )

    def _botocore_session(self) -> Any:
        if self._session is None:
            import botocore.session

            self._session = meter_session(botocore.session.get_session())
        return self._session

    def client(self, service: str, region: str) -> Any:
        key = (service, region)
        client = self._clients.get(key)
        if client is None:
            with self._lock:  # a botocore session is not safe to build clients concurrently
                client = self._clients.get(key)
                if client is None:
                    client = self._botocore_session().create_client(
                        service, region_name=region, endpoint_url=self._endpoint_url
                    )
                    self._clients[key] = client
        return client
