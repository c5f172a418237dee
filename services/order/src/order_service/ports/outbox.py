"""An event on its way to the bus: committed with the state change that raised it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    event_id: str
    source: str
    detail_type: str
    # The envelope: {"metadata": {...}, "data": {...}}, JSON-ready.
    detail: dict[str, Any]
