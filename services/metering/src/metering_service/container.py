"""The composition root (docs/conventions.md): Settings, the Container, container().

Each dependency is a cached property typed with its port, built on first use and reused by
warm invocations; adapters are imported inside the property that builds them."""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from functools import cached_property
from typing import Literal

from pydantic import BaseModel, ConfigDict

from metering_service.app.meterings import Meterings
from metering_service.ports.unit_of_work import UnitOfWorkFactory

SOURCE = "saas.metering"


class Settings(BaseModel):
    """The function's environment (the template's variables), read once."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    BACKEND: Literal["memory"] = "memory"

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        return cls.model_validate({name: env[name] for name in cls.model_fields if name in env})


class Container:
    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings if settings is not None else Settings.from_environ()

    @cached_property
    def unit_of_work(self) -> UnitOfWorkFactory:
        from metering_service.adapters.memory_unit_of_work import (
            MemoryStore,
            MemoryUnitOfWorkFactory,
        )

        return MemoryUnitOfWorkFactory(MemoryStore(), source=SOURCE)

    @cached_property
    def meterings(self) -> Meterings:
        return Meterings(self.unit_of_work)


_lock = threading.Lock()
_current: Container | None = None


def container() -> Container:
    """The process-wide Container, built on first use."""
    global _current
    with _lock:
        if _current is None:
            _current = Container()
        return _current


def use_container(replacement: Container | None) -> None:
    """Tests: install a Container, or with None drop the current one."""
    global _current
    with _lock:
        _current = replacement
