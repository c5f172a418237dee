"""The one place the order service builds AWS clients: one botocore client per AWS service and
region per process, pointed at AWS_ENDPOINT_URL when it is set (the local platform).

botocore directly: boto3 would add its import cost (s3transfer, resources) for nothing used."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from tenant_context.metering import meter_session

if TYPE_CHECKING:
    from botocore.client import BaseClient
    from botocore.session import Session

# (service, region) -> a new client; the default builds it from one botocore session.
ClientBuilder = Callable[[str, str], "BaseClient"]


class AwsClients:
    def __init__(self, endpoint_url: str | None = None, build: ClientBuilder | None = None) -> None:
        self._endpoint_url = endpoint_url
        self._build = build or self._botocore_client
        self._clients: dict[tuple[str, str], BaseClient] = {}
        self._lock = threading.Lock()
        self._session: Session | None = None

    def client(self, service: str, region: str) -> BaseClient:
        """The process's client of `service` in `region`, built on first use."""
        with self._lock:
            client = self._clients.get((service, region))
            if client is None:
                client = self._clients[(service, region)] = self._build(service, region)
            return client

    def client_as(self, service: str, region: str, credentials: Mapping[str, Any]) -> BaseClient:
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

    def _botocore_session(self) -> Session:
        import botocore.session  # heavy: only when a client is first needed

        if self._session is None:
            self._session = meter_session(botocore.session.get_session())
        return self._session

    def _botocore_client(self, service: str, region: str) -> BaseClient:
        return self._botocore_session().create_client(
            service, region_name=region, endpoint_url=self._endpoint_url
        )
