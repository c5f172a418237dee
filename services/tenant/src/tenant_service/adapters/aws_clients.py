"""The one place this service talks to AWS from: one botocore client per AWS service and region
per process, endpoint from AWS_ENDPOINT_URL (the local platform), reused by warm invocations;
and `call_json`, one signed call without a client, for the authorizer's cold path.

botocore directly: boto3 would add its own import cost (s3transfer) and nothing we use.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from typing import Any

from tenant_context.metering import meter_session


class AwsCallFailed(Exception):
    """AWS answered a `call_json` with an error; the message says which and why."""


class AwsClients:
    def __init__(self, region: str, endpoint_url: str | None = None) -> None:
        self._region = region
        self._endpoint_url = endpoint_url
        self._session: Any = None
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    def _botocore_session(self) -> Any:
        if self._session is None:
            import botocore.session

            self._session = meter_session(botocore.session.get_session())
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

    def call_json(
        self, service: str, target: str, payload: Mapping[str, Any], timeout: float = 3.0
    ) -> dict[str, Any]:
        """One call of an AWS JSON-protocol API (`X-Amz-Target`), signed with SigV4, without
        building the service's client. For a handler on the cold path that makes one call to a
        service whose model is large: building an SSM client costs some 50 ms of CPU, as much as
        the rest of the authorizer's init. Raises AwsCallFailed with AWS's answer on an error."""
        import urllib.error
        import urllib.request

        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        url = self._endpoint_url or f"https://{service}.{self._region}.amazonaws.com/"
        body = json.dumps(payload).encode()
        request = AWSRequest(
            method="POST",
            url=url,
            data=body,
            headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": target},
        )
        with self._lock:
            credentials = self._botocore_session().get_credentials()
        if credentials is None:
            raise AwsCallFailed(f"{target}: no AWS credentials")
        SigV4Auth(credentials.get_frozen_credentials(), service, self._region).add_auth(request)
        signed = urllib.request.Request(
            url, data=body, headers=dict(request.headers.items()), method="POST"
        )
        try:
            with urllib.request.urlopen(signed, timeout=timeout) as response:
                answer: dict[str, Any] = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:500].decode("utf-8", "replace")
            raise AwsCallFailed(f"{target}: HTTP {exc.code} {detail}") from None
        return answer
