"""The one place the metering service builds AWS clients: one botocore client per AWS service
and region per process, pointed at AWS_ENDPOINT_URL when it is set (the local platform).

Its sessions are not metered: the metering service's own usage is not a tenant's, and its
records must not feed its own subscription."""

from __future__ import annotations

import threading
from typing import Any


class AwsClients:
    def __init__(self, region: str, endpoint_url: str | None = None) -> None:
        self._region = region
        self._endpoint_url = endpoint_url
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._session: Any = None

    def client(self, service: str) -> Any:
        with self._lock:
            if service not in self._clients:
                if self._session is None:
                    import botocore.session  # heavy: only when a client is first needed

                    self._session = botocore.session.get_session()
                self._clients[service] = self._session.create_client(
                    service, region_name=self._region, endpoint_url=self._endpoint_url
                )
            return self._clients[service]
