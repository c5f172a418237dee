from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class MemoryDeadLetters:
    def __init__(self) -> None:
        self.letters: list[tuple[Mapping[str, Any], str]] = []

    def send(self, record: Mapping[str, Any], reason: str) -> None:
        self.letters.append((record, reason))
