"""Export the service's contracts from its code: `python -m product_service.contracts`
(`--check` exits 1 and names the files that differ from the code).

contracts/openapi.json                     the HTTP API (app.get_openapi_json_schema())
contracts/events/<DetailType>.v<major>.json  each published event's data, JSON Schema
                                           (pydantic, serialization mode)
Rendered as the workspace's contract tooling renders them: sorted keys, two-space indent."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

CONTRACTS_DIR = Path(__file__).resolve().parents[2] / "contracts"


def render(document: Any) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def expected_files(contracts_dir: Path = CONTRACTS_DIR) -> dict[Path, str]:
    from product_service.domain.events import PUBLISHED
    from product_service.entrypoints.api import app

    files = {
        contracts_dir / "events" / f"{name}.v{getattr(model, 'event_version', 1)}.json": render(
            model.model_json_schema(mode="serialization")
        )
        for name, model in sorted(PUBLISHED.items())
    }
    files[contracts_dir / "openapi.json"] = render(json.loads(app.get_openapi_json_schema()))
    return files


def drifted(contracts_dir: Path = CONTRACTS_DIR) -> list[Path]:
    return [
        path
        for path, content in expected_files(contracts_dir).items()
        if not path.is_file() or path.read_text(encoding="utf-8") != content
    ]


def main(argv: list[str]) -> int:
    if "--check" in argv:
        stale = drifted()
        for path in stale:
            print(f"differs from the code: {path}", file=sys.stderr)
        return 1 if stale else 0
    for path, content in expected_files().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
