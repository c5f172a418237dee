"""The committed contracts match the code, and every event the service publishes validates
against its committed JSON Schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from tenant_testkit import SYSTEM_ADMIN, Wiring, admin_of, call

from saas_devtools.contracts.discovery import service_by_name
from saas_devtools.contracts.export import expected_files
from tenant_context import Cause
from tenant_service.domain.events import PUBLISHED

SERVICE = service_by_name(Path(__file__).resolve().parents[3], "tenant")
CONTRACTS_DIR = SERVICE.contracts_dir


def test_the_committed_contracts_match_the_code() -> None:
    drifted = [
        str(path.relative_to(CONTRACTS_DIR.parent))
        for path, content in expected_files(SERVICE).items()
        if not path.is_file() or path.read_text(encoding="utf-8") != content
    ]

    assert drifted == [], "run `make contracts` and commit the result"


def test_the_route_permissions_are_exported_with_the_contracts() -> None:
    assert (CONTRACTS_DIR / "permissions.json") in expected_files(SERVICE)


def test_there_is_one_schema_per_published_event_and_no_stale_one() -> None:
    committed = sorted(p.name for p in (CONTRACTS_DIR / "events").glob("*.json"))

    assert committed == sorted(f"{name}.v1.json" for name in PUBLISHED)


def test_the_openapi_names_every_route() -> None:
    document = json.loads((CONTRACTS_DIR / "openapi.json").read_text())

    assert set(document["paths"]) == {
        "/tenants",
        "/tenants/{tenant_id}",
        "/tenants/{tenant_id}/suspend",
        "/tenants/{tenant_id}/activate",
        "/tenants/{tenant_id}/retry-provisioning",
        "/users",
        "/users/{username}",
        "/users/{username}/disable",
        "/users/{username}/enable",
        "/users/{username}/resend-invitation",
    }


@pytest.fixture
def every_event(api: Any, wiring: Wiring) -> list[Any]:
    """A run through the API and the reactions that raises each event the service publishes."""
    body = {
        "name": "Acme",
        "tier": "basic",
        "region_group": "us",
        "admin_email": "boss@acme.test",
        "config": {"theme": "dark"},
    }
    tenant_id = call(api, "POST", "/tenants", caller=SYSTEM_ADMIN, body=body)[1]["id"]
    wiring.container.reactions.provisioned(tenant_id, Cause(event_id="e-1", correlation_id="c-1"))
    call(
        api,
        "POST",
        "/users",
        caller=admin_of(tenant_id),
        body={"email": "u@a.test", "role": "TenantUser"},
    )
    username = wiring.repository.list_users(tenant_id, limit=1, next_token=None).items[0].username
    call(api, "POST", f"/users/{username}/disable", caller=admin_of(tenant_id))
    call(api, "POST", f"/users/{username}/enable", caller=admin_of(tenant_id))
    call(api, "DELETE", f"/users/{username}", caller=admin_of(tenant_id))
    call(api, "PATCH", f"/tenants/{tenant_id}", caller=SYSTEM_ADMIN, body={"tier": "premium"})
    call(api, "POST", f"/tenants/{tenant_id}/suspend", caller=SYSTEM_ADMIN)
    call(api, "POST", f"/tenants/{tenant_id}/activate", caller=SYSTEM_ADMIN)
    call(api, "DELETE", f"/tenants/{tenant_id}", caller=SYSTEM_ADMIN)
    failed_id = call(api, "POST", "/tenants", caller=SYSTEM_ADMIN, body=body)[1]["id"]
    wiring.container.reactions.provisioning_failed(
        failed_id, Cause(event_id="e-2", correlation_id="c-2"), "stack limit reached"
    )
    call(api, "POST", f"/tenants/{failed_id}/retry-provisioning", caller=SYSTEM_ADMIN)
    return list(wiring.repository.outbox)


def test_every_published_event_validates_against_its_schema(every_event: list[Any]) -> None:
    assert {m.detail_type for m in every_event} == set(PUBLISHED)
    for message in every_event:
        schema = json.loads(
            (CONTRACTS_DIR / "events" / f"{message.detail_type}.v1.json").read_text()
        )
        jsonschema.validate(message.detail["data"], schema)
        assert message.detail["metadata"]["event_version"] == 1
        assert message.detail["metadata"]["producer"] == "saas.tenant"


def test_the_schema_refuses_an_unknown_role() -> None:
    schema = json.loads((CONTRACTS_DIR / "events" / "TenantUserCreated.v1.json").read_text())

    with pytest.raises(jsonschema.ValidationError, match="role"):
        jsonschema.validate(
            {"tenant_id": "t", "username": "u", "email": "e", "role": "SystemAdmin"}, schema
        )
