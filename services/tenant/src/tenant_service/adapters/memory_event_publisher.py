"""In-memory EventPublisher for unit tests and `BACKEND=memory`."""

from __future__ import annotations


class MemoryEventPublisher:
    def __init__(self) -> None:
        self.published: list[tuple[str, str, str]] = []

    def publish(self, *, source: str, detail_type: str, detail_json: str) -> None:
        self.published.append((source, detail_type, detail_json))
