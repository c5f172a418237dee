"""Time and identifiers, injected so tests can pin them."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...

    def monotonic(self) -> float: ...


class IdGenerator(Protocol):
    def new_id(self) -> str: ...

    def id_for(self, key: str) -> str:
        """The same id for the same key, every time (a request's idempotency key)."""
        ...
