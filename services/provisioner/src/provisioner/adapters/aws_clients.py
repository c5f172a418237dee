"""The AWS clients of this process, built here and nowhere else: one botocore client per AWS
service and region, made on first use and reused by warm invocations; the endpoint is the
local platform's when AWS_ENDPOINT_URL is set. botocore directly: boto3 would add its import
cost for nothing the provisioner uses."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from tenant_context.metering import meter_session


class AwsClients:
    def __init__(self, endpoint_url: str | None = None) -> None:
        self._endpoint_url = endpoint_url
        self._clients: dict[tuple[str, str], Any] = {}
        # A botocore session is not thread-safe: clients are made one at a time (they are, once
        # made, and the batch's tenants share them across threads).
        self._lock = threading.Lock()
        self._session: Any = None

    def client(self, service: str, region: str) -> Any:
        """The process's client for `service` in `region`."""
        with self._lock:
            cached = self._clients.get((service, region))
            if cached is None:
                cached = self._create(service, region, {})
                self._clients[(service, region)] = cached
            return cached

    def client_as(self, service: str, region: str, credentials: Mapping[str, Any]) -> Any:
        """A client acting with temporary credentials (STS AssumeRole's `Credentials`); not
        cached here, since the credentials expire: the caller keeps it as long as they last."""
        with self._lock:
            return self._create(
                service,
                region,
                {
                    "aws_access_key_id": credentials["AccessKeyId"],
                    "aws_secret_access_key": credentials["SecretAccessKey"],
                    "aws_session_token": credentials["SessionToken"],
                },
            )

    def _create(self, service: str, region: str, credentials: Mapping[str, str]) -> Any:
        if self._session is None:
            # Imported with the first client, not when a handler module is imported.
            from botocore.session import get_session

            self._session = meter_session(get_session())
        return self._session.create_client(
            service, region_name=region, endpoint_url=self._endpoint_url, **credentials
        )
