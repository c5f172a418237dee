"""next_token: url-safe base64 of the last key, bound to the tenant that received it."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from order_service.domain.errors import InvalidPageToken
from order_service.domain.order import Order


def encode(key: dict[str, Any]) -> str:
    raw = json.dumps(key, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def after(tenant_pk: str, order: Order) -> str:
    """The token of the page that follows `order` in the listing (newest first)."""
    return encode({"pk": tenant_pk, "sk": f"ORDER#{order.id}", "placed": order.listing_key})


def decode(token: str, *, tenant_pk: str) -> dict[str, Any]:
    try:
        padded = token + "=" * (-len(token) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidPageToken("next_token is not a token this API issued") from None
    if not isinstance(key, dict) or key.get("pk") != tenant_pk:
        raise InvalidPageToken("next_token is not a token this API issued") from None
    if not isinstance(key.get("sk"), str) or not isinstance(key.get("placed"), str):
        # A token of the listing by id (before orders were listed newest first) is refused too.
        raise InvalidPageToken("next_token is not a token this API issued")
    return key
