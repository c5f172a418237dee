"""The committed event schemas (contracts/events/<DetailType>.v<major>.json) are what the code
publishes. After changing domain/events.py, regenerate them with `saas-contracts export` and
let the compatibility gate judge the change."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provisioner.domain.events import PUBLISHED

EVENTS_DIR = Path(__file__).resolve().parents[2] / "contracts" / "events"


def rendered_schema(model: type) -> str:
    schema = model.model_json_schema(mode="serialization")  # type: ignore[attr-defined]
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


@pytest.mark.parametrize("detail_type", sorted(PUBLISHED))
def test_the_committed_schema_is_the_one_the_code_publishes(detail_type):
    model = PUBLISHED[detail_type]
    path = EVENTS_DIR / f"{detail_type}.v{model.event_version}.json"  # type: ignore[attr-defined]

    assert path.is_file(), f"{path.name} is missing: run `saas-contracts export`"
    assert path.read_text(encoding="utf-8") == rendered_schema(model), f"{path.name} drifted"


def test_no_schema_is_committed_for_an_event_the_code_no_longer_publishes():
    committed = {path.name.split(".v")[0] for path in EVENTS_DIR.glob("*.json")}

    assert committed == set(PUBLISHED)
