"""Opaque page tokens: url-safe base64 of the last key as JSON."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from tenant_service.domain.errors import InvalidPageToken


def encode(key: dict[str, Any] | None) -> str | None:
    if not key:
        return None
    return base64.urlsafe_b64encode(json.dumps(key, sort_keys=True).encode()).decode()


def decode(token: str | None, *, fields: tuple[str, ...]) -> dict[str, str] | None:
    """The key a token carries; InvalidPageToken unless it is exactly `fields`, all strings."""
    if token is None:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(token.encode() + b"=" * (-len(token) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidPageToken() from None
    if (
        not isinstance(key, dict)
        or set(key) != set(fields)
        or not all(isinstance(v, str) for v in key.values())
    ):
        raise InvalidPageToken()
    return key
