"""boto3 clients built once per (service, region) and reused by warm invocations."""

from __future__ import annotations

import threading
from typing import Any


class RegionalClients:
    def __init__(self, endpoint_url: str | None = None) -> None:
        self._endpoint_url = endpoint_url
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()
        self._session: Any = None

    def client(self, service: str, region: str) -> Any:
        key = (service, region)
        with self._lock:
            if key not in self._clients:
                self._clients[key] = self.new_client(service, region_name=region)
            return self._clients[key]

    def new_client(self, service: str, **kwargs: Any) -> Any:
        """A client that is not cached (e.g. with assumed-role credentials)."""
        import boto3  # heavy: imported when the first client is built, not at handler import

        if self._session is None:
            # boto3's default session is not thread-safe to create clients from; one of our own is.
            self._session = boto3.session.Session()
        if self._endpoint_url:
            kwargs.setdefault("endpoint_url", self._endpoint_url)
        return self._session.client(service, **kwargs)
