from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol


class DeadLetters(Protocol):
    def send(self, record: Mapping[str, Any], reason: str) -> None:
        """Park a record that can never be processed, with the reason, for a person to look at."""
        ...
