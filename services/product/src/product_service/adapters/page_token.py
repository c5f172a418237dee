"""`next_token`: url-safe base64 of the last key as JSON. A token is only valid for the tenant
it was handed to; anything else is InvalidPageRequest (a 400), never another tenant's page."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from product_service.domain.errors import InvalidPageRequest


def encode(key: dict[str, Any]) -> str:
    raw = json.dumps(key, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(token: str, *, required: dict[str, str], prefixes: dict[str, str]) -> dict[str, Any]:
    """The key in `token`; its `required` fields must equal, its `prefixes` fields start with."""
    try:
        padded = token + "=" * (-len(token) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidPageRequest("next_token is not a token this service issued") from None
    if not isinstance(key, dict) or not all(isinstance(v, str) for v in key.values()):
        raise InvalidPageRequest("next_token is not a token this service issued")
    if any(key.get(name) != value for name, value in required.items()) or any(
        not str(key.get(name, "")).startswith(prefix) for name, prefix in prefixes.items()
    ):
        raise InvalidPageRequest("next_token was not issued for this tenant's products")
    if set(key) != set(required) | set(prefixes):
        raise InvalidPageRequest("next_token is not a token this service issued")
    return key
