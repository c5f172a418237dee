"""The Metering aggregate: its rules, and the events it raises as it changes."""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import BaseModel

from metering_service.domain.errors import InvalidMetering
from metering_service.domain.events import MeteringCreated

MAX_NAME_LENGTH = 200


@dataclass
class Metering:
    id: str
    name: str
    version: int = 0  # as stored: a unit of work writes it back only if it is still this one
    events: list[BaseModel] = field(default_factory=list, compare=False, repr=False)

    @classmethod
    def create(cls, metering_id: str, name: str) -> Metering:
        name = name.strip()
        if not name or len(name) > MAX_NAME_LENGTH:
            raise InvalidMetering(f"name: 1 to {MAX_NAME_LENGTH} characters, not {len(name)}")
        created = cls(id=metering_id, name=name)
        created.events.append(MeteringCreated(metering_id=metering_id, name=name))
        return created

    def pull_events(self) -> list[BaseModel]:
        """The events raised since the last call, handed to the unit of work's outbox once."""
        events, self.events = self.events, []
        return events
