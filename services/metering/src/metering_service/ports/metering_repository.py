"""The tenant's meterings, reached through a unit of work (never on their own)."""

from __future__ import annotations

from typing import Protocol

from metering_service.domain.model import Metering


class MeteringRepository(Protocol):
    def get(self, metering_id: str) -> Metering:
        """The aggregate as stored; its NotFound error when the tenant has none by that id."""
        ...

    def add(self, metering: Metering) -> None:
        """A new one, written at commit (ConcurrentUpdate if the id is taken)."""
        ...

    def delete_all(self) -> int:
        """Every one of the tenant, deleted at commit; how many there are."""
        ...
