"""The user pool's JWKS over HTTPS (or the local platform's endpoint)."""

from __future__ import annotations

import json
import urllib.request
from typing import Any


class HttpJwksFetcher:
    def __init__(self, url: str, timeout_seconds: float = 3.0) -> None:
        if not url.startswith(("https://", "http://")):
            raise ValueError(f"JWKS url must be http(s): {url!r}")
        self._url = url
        self._timeout = timeout_seconds

    def fetch(self) -> dict[str, Any]:
        with urllib.request.urlopen(self._url, timeout=self._timeout) as response:
            body: dict[str, Any] = json.loads(response.read())
        return body
