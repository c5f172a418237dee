"""One transaction per change: the aggregates, their events (outbox) and the processed marker
(docs/conventions.md, "Writes: a unit of work")."""

from __future__ import annotations

from types import TracebackType
from typing import Protocol

from pydantic import BaseModel

from metering_service.ports.metering_repository import MeteringRepository
from tenant_context import Cause, TenantContext


class UnitOfWork(Protocol):
    @property
    def meterings(self) -> MeteringRepository: ...

    def emit(self, event: BaseModel) -> None:
        """An event to publish with this commit that no aggregate raised."""
        ...

    def commit(self) -> None:
        """Everything at once, or nothing: ConcurrentUpdate, EventAlreadyProcessed."""
        ...

    def __enter__(self) -> UnitOfWork: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Leaving without commit() discards every change."""
        ...


class UnitOfWorkFactory(Protocol):
    def __call__(self, ctx: TenantContext, cause: Cause) -> UnitOfWork: ...
