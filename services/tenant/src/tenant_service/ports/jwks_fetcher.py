"""Reading a JSON Web Key Set (the user pool's public keys)."""

from __future__ import annotations

from typing import Any, Protocol


class JwksFetcher(Protocol):
    def fetch(self) -> dict[str, Any]: ...
