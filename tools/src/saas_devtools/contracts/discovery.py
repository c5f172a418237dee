"""Find the services of a workspace and what they publish and consume.

A service is a folder `services/<name>/` with `src/<package>/`. It publishes what
`<package>.domain.events.PUBLISHED` lists and consumes what
`<package>.entrypoints.event_readers.CONSUMED` lists (see docs/conventions.md); its HTTP API is
`<package>.entrypoints.api:app`; its routes' permissions are
`src/<package>/entrypoints/permissions.json`. A module or file that does not exist yet means
"none", not an error.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

EVENTS_MODULE = "domain.events"
READERS_MODULE = "entrypoints.event_readers"
API_MODULE = "entrypoints.api"
PERMISSIONS_FILE = "entrypoints/permissions.json"


class ContractDeclarationError(Exception):
    """A service declares its contracts in a shape the tools cannot read."""


@dataclass(frozen=True)
class Service:
    name: str
    package: str
    root: Path

    @property
    def source(self) -> str:
        return f"saas.{self.name}"

    @property
    def contracts_dir(self) -> Path:
        return self.root / "contracts"

    def published(self) -> dict[str, type[BaseModel]]:
        module = _optional_module(f"{self.package}.{EVENTS_MODULE}")
        if module is None:
            return {}
        published = getattr(module, "PUBLISHED", None)
        if not isinstance(published, dict):
            raise ContractDeclarationError(f"{module.__name__} has no PUBLISHED dict")
        return dict(published)

    def consumed(self) -> dict[tuple[str, str], type[BaseModel]]:
        module = _optional_module(f"{self.package}.{READERS_MODULE}")
        if module is None:
            return {}
        consumed = getattr(module, "CONSUMED", None)
        if not isinstance(consumed, dict):
            raise ContractDeclarationError(f"{module.__name__} has no CONSUMED dict")
        return dict(consumed)

    def consumer_modules(self) -> list[str]:
        """The dotted names of the entrypoint modules that read CONSUMED: its consumers."""
        entrypoints = self.root / "src" / self.package / "entrypoints"
        return [
            f"{self.package}.entrypoints.{module.stem}"
            for module in sorted(entrypoints.glob("*.py"))
            if module.stem not in {"__init__", "event_readers"}
            and "CONSUMED" in module.read_text(encoding="utf-8")
        ]

    @property
    def permissions_file(self) -> Path:
        return self.root / "src" / self.package / PERMISSIONS_FILE

    def api_app(self) -> Any | None:
        module = _optional_module(f"{self.package}.{API_MODULE}")
        return None if module is None else getattr(module, "app", None)


def event_major(model: type[BaseModel]) -> int:
    version = getattr(model, "event_version", None)
    if not isinstance(version, int) or version < 1:
        raise ContractDeclarationError(
            f"{model.__module__}.{model.__qualname__} has no event_version class var (int >= 1)"
        )
    return version


def find_services(workspace: Path) -> list[Service]:
    """The services under `<workspace>/services`, each with its one package under src/."""
    services = []
    for root in sorted((workspace / "services").iterdir()):
        src = root / "src"
        if not src.is_dir():
            continue
        packages = [p for p in sorted(src.iterdir()) if (p / "__init__.py").is_file()]
        if len(packages) != 1:
            continue
        _ensure_importable(src)
        services.append(Service(name=root.name, package=packages[0].name, root=root))
    return services


def service_by_name(workspace: Path, name: str) -> Service:
    for service in find_services(workspace):
        if service.name == name:
            return service
    known = ", ".join(s.name for s in find_services(workspace))
    raise LookupError(f"no service {name!r} (known: {known})")


def iter_consumers(
    services: list[Service],
) -> Iterator[tuple[Service, str, str, type[BaseModel]]]:
    """(consumer service, source, detail-type, reader model) for every declared reader."""
    for service in services:
        for (source, detail_type), reader in sorted(service.consumed().items()):
            yield service, source, detail_type, reader


def _ensure_importable(src: Path) -> None:
    # In the workspace the packages are installed already; a fixture workspace is not.
    if str(src) not in sys.path:
        sys.path.append(str(src))


def _optional_module(name: str) -> Any | None:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and name.startswith(exc.name):
            return None  # the module (or its package) does not exist yet
        raise
