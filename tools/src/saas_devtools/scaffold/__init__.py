"""Scaffold a new service in the one shape of docs/conventions.md (docs/adding-a-service.md).

The files under `template/` are the service, with `{{tokens}}` for its names: `{{name}}`
(the folder, `gift-card`), `{{package}}` (`gift_card_service`), `{{distribution}}`
(`gift-card-service`), `{{Aggregate}}` (`GiftCard`), `{{aggregate}}` (`gift_card`) and
`{{route}}` (`gift-cards`). A `.tmpl` suffix keeps the tools from reading them as code.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from saas_devtools.contracts import export as exporter
from saas_devtools.contracts.discovery import service_by_name

TEMPLATE = Path(__file__).parent / "template"
SUFFIX = ".tmpl"
NAME = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")


class ScaffoldError(Exception):
    """The service cannot be scaffolded as asked; the message says why."""


@dataclass(frozen=True)
class ServiceNames:
    name: str
    package: str
    distribution: str
    aggregate_class: str
    aggregate: str
    route: str

    @classmethod
    def of(cls, name: str) -> ServiceNames:
        if not NAME.fullmatch(name) or len(name) > 24:
            raise ScaffoldError(
                f"{name!r}: a service name is lower-case words joined by '-' (up to 24 "
                "characters), like 'invoice' or 'gift-card'"
            )
        words = name.split("-")
        snake = "_".join(words)
        return cls(
            name=name,
            package=f"{snake}_service",
            distribution=f"{name}-service",
            aggregate_class="".join(word.capitalize() for word in words),
            aggregate=snake,
            route=f"{name}s",
        )

    def tokens(self) -> dict[str, str]:
        return {
            "{{name}}": self.name,
            "{{package}}": self.package,
            "{{distribution}}": self.distribution,
            "{{Aggregate}}": self.aggregate_class,
            "{{aggregate}}": self.aggregate,
            "{{route}}": self.route,
        }


def _fill(text: str, tokens: dict[str, str]) -> str:
    for token, value in tokens.items():
        text = text.replace(token, value)
    return text


def render(workspace: Path, names: ServiceNames) -> list[Path]:
    """Write services/<name>/ from the template; refuse a folder or package that exists."""
    root = workspace / "services" / names.name
    if root.exists():
        raise ScaffoldError(f"{root.relative_to(workspace)} exists already")
    taken = {p.name for p in workspace.glob("services/*/src/*") if p.is_dir()}
    if names.package in taken or importlib.util.find_spec(names.package) is not None:
        raise ScaffoldError(f"a package named {names.package} exists already")
    tokens = names.tokens()
    written = []
    for source in sorted(TEMPLATE.rglob(f"*{SUFFIX}")):
        relative = _fill(str(source.relative_to(TEMPLATE)), tokens).removesuffix(SUFFIX)
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(_fill(source.read_text(encoding="utf-8"), tokens), encoding="utf-8")
        written.append(target)
    return written


def tidy(root: Path) -> None:
    """Sort the imports and format the code: where a name lands in an import list depends on
    the name, so the template cannot spell it out. ruff from the same environment."""
    ruff = Path(sys.executable).with_name("ruff")
    for command in (["check", "--fix", "--select", "I", "--quiet"], ["format", "--quiet"]):
        subprocess.run([str(ruff), *command, str(root)], check=True)


def write_contracts(workspace: Path, name: str) -> list[Path]:
    """The service's contracts/ (its events' schemas, its OpenAPI document) from its code."""
    written = []
    for path, content in sorted(exporter.expected_files(service_by_name(workspace, name)).items()):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        written.append(path)
    return written


def scaffold(workspace: Path, name: str) -> list[Path]:
    names = ServiceNames.of(name)
    written = render(workspace, names)
    tidy(workspace / "services" / names.name)
    return written + write_contracts(workspace, names.name)
