"""The one place this service builds AWS clients: one botocore client per AWS service and region
per process, endpoint from AWS_ENDPOINT_URL (the local platform), reused by warm invocations.

botocore directly: boto3 would add its own import cost (s3transfer) and nothing we use.
"""

from __future__ import annotations

import threading
from typing import Any


class AwsClients:
    def __init__(self, region: str, endpoint_url: str | None = None) -> None:
        self._region = region
        self._endpoint_url = endpoint_url
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def client(self, service: str) -> Any:
        with self._lock:
            if service not in self._clients:
                import botocore.session

                self._clients[service] = botocore.session.get_session().create_client(
                    service, region_name=self._region, endpoint_url=self._endpoint_url
                )
            return self._clients[service]
