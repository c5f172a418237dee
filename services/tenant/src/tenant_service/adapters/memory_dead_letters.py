"""In-memory DeadLetters for unit tests and `BACKEND=memory`."""

from __future__ import annotations


class MemoryDeadLetters:
    def __init__(self) -> None:
        self.messages: list[tuple[str, str]] = []

    def send(self, body: str, reason: str) -> None:
        self.messages.append((body, reason))
