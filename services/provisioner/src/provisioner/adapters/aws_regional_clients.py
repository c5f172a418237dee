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
        self._session_lock = threading.Lock()

    def client(self, service: str, region: str) -> Any:
        key = (service, region)
        with self._lock:
            cached = self._clients.get(key)
        if cached is None:
            cached = self.new_client(service, region_name=region)
            with self._lock:
                cached = self._clients.setdefault(key, cached)
        return cached

    def new_client(self, service: str, **kwargs: Any) -> Any:
        """A client that is not cached (e.g. with assumed-role credentials)."""
        import boto3  # heavy: imported when the first client is built, not at handler import

        if self._endpoint_url:
            kwargs.setdefault("endpoint_url", self._endpoint_url)
        # A boto3 Session is not thread-safe: clients are made one at a time (they are, once made).
        with self._session_lock:
            if self._session is None:
                self._session = boto3.session.Session()
            return self._session.client(service, **kwargs)
