"""The tenant service's contracts, written from its code: event data JSON Schemas in
contracts/events/<DetailType>.v<major>.json and the HTTP API in contracts/openapi.json.

Same on-disk form as the workspace's exporter (`saas-contracts export`: sorted keys, two-space
indent, final newline). `python -m tenant_service.contracts` rewrites the files; the drift test
fails when the committed files differ from the code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

CONTRACTS_DIR = Path(__file__).resolve().parents[2] / "contracts"


def render(document: Any) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def expected_files(contracts_dir: Path = CONTRACTS_DIR) -> dict[Path, str]:
    from tenant_service.domain.events import PUBLISHED
    from tenant_service.entrypoints.api import app

    files: dict[Path, str] = {}
    for detail_type, model in sorted(PUBLISHED.items()):
        major = model.event_version  # type: ignore[attr-defined]
        path = contracts_dir / "events" / f"{detail_type}.v{major}.json"
        files[path] = render(model.model_json_schema(mode="serialization"))
    files[contracts_dir / "openapi.json"] = render(json.loads(app.get_openapi_json_schema()))
    return files


def main() -> None:
    for path, content in expected_files().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        print(path.relative_to(CONTRACTS_DIR.parent))


if __name__ == "__main__":
    main()
