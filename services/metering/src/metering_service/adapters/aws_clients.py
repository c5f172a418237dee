"""The one place the metering service builds AWS clients: one botocore client per AWS service
and region per process, pointed at AWS_ENDPOINT_URL when it is set (the local platform), and
clients acting with a tenant's temporary credentials (adapters/sts_tenant_scoped_clients.py).

Its sessions are not metered: the metering service's own usage is not a tenant's, and its
records must not feed its own subscription."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any


class AwsClients:
    def __init__(self, region: str, endpoint_url: str | None = None) -> None:
        self._region = region
        self._endpoint_url = endpoint_url
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()
        self._session: Any = None

    def _botocore_session(self) -> Any:
        if self._session is None:
            import botocore.session  # heavy: only when a client is first needed

            self._session = botocore.session.get_session()
        return self._session

    def client(self, service: str, region: str | None = None) -> Any:
        """The process's client of `service` in `region` (default: the function's own)."""
        region = region or self._region
        with self._lock:
            if (service, region) not in self._clients:
                self._clients[(service, region)] = self._botocore_session().create_client(
                    service, region_name=region, endpoint_url=self._endpoint_url
                )
            return self._clients[(service, region)]

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
