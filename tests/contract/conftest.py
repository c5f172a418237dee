"""A throwaway workspace with small producer and consumer services, laid out as the real ones."""

from __future__ import annotations

import sys
import textwrap
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

WriteService = Callable[[str, dict[str, str]], str]


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[tuple[Path, WriteService]]:
    """(root, write_service): write_service(name, {relative module path: source}) creates
    services/<name>/src/<unique package>/... and returns the package name."""
    root = tmp_path / "ws"
    packages: list[str] = []

    def write_service(name: str, modules: dict[str, str]) -> str:
        package = f"{name}_{uuid.uuid4().hex[:8]}"
        src = root / "services" / name / "src" / package
        for folder in ("", "domain", "entrypoints"):
            (src / folder).mkdir(parents=True, exist_ok=True)
            (src / folder / "__init__.py").touch()
        for relative, source in modules.items():
            (src / relative).write_text(textwrap.dedent(source), encoding="utf-8")
        packages.append(package)
        return package

    yield root, write_service
    for name in list(sys.modules):
        if name.split(".")[0] in packages:
            del sys.modules[name]
