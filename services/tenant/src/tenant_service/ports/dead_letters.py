"""Where a message goes that can never be processed, with the reason why."""

from __future__ import annotations

from typing import Protocol


class DeadLetters(Protocol):
    def send(self, body: str, reason: str) -> None: ...
