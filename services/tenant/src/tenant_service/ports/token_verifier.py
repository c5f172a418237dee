"""Verifying an identity token: the claims of a valid token, or InvalidToken."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol


class InvalidToken(Exception):
    """The token is not a valid ID token of the pool; the message says why (for logs only)."""


class TokenVerifier(Protocol):
    def verify(self, token: str) -> Mapping[str, Any]: ...
