"""The committed event schemas (contracts/events/<DetailType>.v<major>.json) are what the code
publishes, rendered by saas-contracts' own exporter. After changing domain/events.py, regenerate
them with `saas-contracts export` and let the compatibility gate judge the change."""

from __future__ import annotations

from pathlib import Path

import pytest

from provisioner.domain.events import PUBLISHED
from saas_devtools.contracts.discovery import Service, event_major, service_by_name
from saas_devtools.contracts.export import event_schema_path, expected_files

WORKSPACE = Path(__file__).resolve().parents[4]


@pytest.fixture(scope="module")
def service() -> Service:
    return service_by_name(WORKSPACE, "provisioner")


@pytest.mark.parametrize("detail_type", sorted(PUBLISHED))
def test_the_committed_schema_is_the_one_the_code_publishes(service, detail_type):
    path = event_schema_path(service, detail_type, event_major(PUBLISHED[detail_type]))

    assert path.is_file(), f"{path.name} is missing: run `saas-contracts export`"
    assert path.read_text(encoding="utf-8") == expected_files(service)[path], f"{path.name} drifted"


def test_no_schema_is_committed_for_an_event_the_code_no_longer_publishes(service):
    committed = {path.name.split(".v")[0] for path in service.contracts_dir.glob("events/*.json")}

    assert committed == set(PUBLISHED)
