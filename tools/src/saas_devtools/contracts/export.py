"""Write each service's contracts from its code, and tell which committed files drifted.

services/<svc>/contracts/events/<DetailType>.v<major>.json  the event's data JSON Schema
                                                           (pydantic, serialization mode)
services/<svc>/contracts/openapi.json                      the HTTP API's OpenAPI document
services/<svc>/contracts/permissions.json                  who may call which route (read and
                                                           checked from the service's
                                                           entrypoints/permissions.json)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from saas_devtools.contracts.discovery import (
    ContractDeclarationError,
    Service,
    event_major,
    find_services,
)
from tenant_context.permissions import InvalidPermissions, RoutePermissions


def render(document: Any) -> str:
    """The one on-disk form: sorted keys, two-space indent, a final newline. Stable diffs."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def event_schema_path(service: Service, detail_type: str, major: int) -> Path:
    return service.contracts_dir / "events" / f"{detail_type}.v{major}.json"


def expected_files(service: Service) -> dict[Path, str]:
    """Every contract file the service's code defines, with its exact content."""
    files: dict[Path, str] = {}
    for detail_type, model in sorted(service.published().items()):
        major = event_major(model)
        schema = model.model_json_schema(mode="serialization")
        files[event_schema_path(service, detail_type, major)] = render(schema)
    app = service.api_app()
    if app is not None:
        # Powertools returns the document as JSON text; re-rendered so every file has one form.
        document = json.loads(app.get_openapi_json_schema())
        files[service.contracts_dir / "openapi.json"] = render(document)
    if service.permissions_file.is_file():
        try:
            permissions = RoutePermissions.load(service.permissions_file)
        except InvalidPermissions as exc:
            raise ContractDeclarationError(f"{service.name}: {exc}") from None
        files[service.contracts_dir / "permissions.json"] = render(permissions.to_document())
    return files


@dataclass(frozen=True)
class Drift:
    path: Path
    problem: str  # "missing", "differs" or "stale" (committed but no longer produced by the code)


def _stale_candidates(service: Service) -> list[Path]:
    # Only the current major of each event is produced by code; older majors published side by
    # side stay committed on purpose while consumers move, so they are never reported stale.
    events = service.contracts_dir / "events"
    found = sorted(events.glob("*.json")) if events.is_dir() else []
    permissions = service.contracts_dir / "permissions.json"
    return [*found, permissions] if permissions.is_file() else found


def check(workspace: Path) -> list[Drift]:
    drifts: list[Drift] = []
    for service in find_services(workspace):
        expected = expected_files(service)
        for path, content in expected.items():
            if not path.is_file():
                drifts.append(Drift(path, "missing"))
            elif path.read_text(encoding="utf-8") != content:
                drifts.append(Drift(path, "differs"))
        produced_names = {p.name.split(".v")[0] for p in expected if p.parent.name == "events"}
        for path in _stale_candidates(service):
            if path not in expected and path.name.split(".v")[0] not in produced_names:
                drifts.append(Drift(path, "stale"))
    return drifts


def export(workspace: Path) -> list[Path]:
    """Write every contract file whose content changed; return the files written."""
    written = []
    for service in find_services(workspace):
        for path, content in expected_files(service).items():
            if path.is_file() and path.read_text(encoding="utf-8") == content:
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
            written.append(path)
    return written
