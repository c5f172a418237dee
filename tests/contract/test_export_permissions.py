"""A service's route permissions are exported with its contracts and checked for drift."""

from __future__ import annotations

import json

import pytest

from saas_devtools.contracts.discovery import ContractDeclarationError
from saas_devtools.contracts.export import check, export

PERMISSIONS = {
    "service": "shop",
    "routes": [{"method": "get", "path": "/orders/{id}", "roles": ["TenantUser", "TenantAdmin"]}],
}


def test_the_permission_file_is_exported_and_its_drift_is_named(workspace) -> None:
    root, write_service = workspace
    package = write_service("shop", {})
    source = root / "services/shop/src" / package / "entrypoints/permissions.json"
    source.write_text(json.dumps(PERMISSIONS))

    written = export(root)

    exported = root / "services/shop/contracts/permissions.json"
    assert written == [exported]
    assert json.loads(exported.read_text()) == {
        "service": "shop",
        "routes": [
            {"method": "GET", "path": "/orders/{id}", "roles": ["TenantAdmin", "TenantUser"]}
        ],
    }
    assert check(root) == []

    # When a route is added to the service's file, the exported one has drifted
    PERMISSIONS["routes"].append({"method": "POST", "path": "/orders", "roles": ["TenantUser"]})
    source.write_text(json.dumps(PERMISSIONS))
    assert [(d.path.name, d.problem) for d in check(root)] == [("permissions.json", "differs")]

    # And when the service no longer has one, the exported file is stale
    source.unlink()
    assert [(d.path.name, d.problem) for d in check(root)] == [("permissions.json", "stale")]


def test_a_permission_file_off_the_convention_is_refused_with_the_reason(workspace) -> None:
    root, write_service = workspace
    package = write_service("shop", {})
    source = root / "services/shop/src" / package / "entrypoints/permissions.json"
    source.write_text(json.dumps({"service": "shop", "routes": [{"method": "GET"}]}))

    with pytest.raises(ContractDeclarationError, match=r"shop: .*routes\[0\]\.path"):
        export(root)
