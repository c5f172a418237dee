"""The templates give no tenant-serving function a table grant of its own (README, "Tenant
isolation"): the product and order APIs and consumers, the tenant service's
TenantScopedApiFunction (a TenantAdmin's routes) and the metering service's (one tenant's usage),
reach tenant items only as their service's
TenantAccessRole, in a session tagged with one tenant id, whose policy allows that tenant's
partition keys alone. Every other DynamoDB permission of any function is one of the cross-tenant
grants the README lists."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import cfn_yaml

ROOT = Path(__file__).resolve().parents[2]
TENANT_SERVING = {
    "product": ("ApiFunction", "ConsumerFunction"),
    "order": ("ApiFunction", "ConsumerFunction"),
    "tenant": ("TenantScopedApiFunction",),
    "metering": ("TenantScopedApiFunction",),
}
# Every function with a DynamoDB permission of its own, and what it is (the README's table).
CROSS_TENANT_GRANTS = {
    "event-log.EventLogRecorderFunction": "DynamoDBWritePolicy on the event log",
    "provisioner.StreamFunction": "tenant-* tables: create, describe, update, delete (no item)",
    "tenant.AuthorizerFunction": "GetItem on the tenant directory and the service table",
    "tenant.ApiFunction": "the control plane: directory Get/Scan/Put, service table Put, "
    "idempotency table",
    "tenant.ConsumerFunction": "the control plane's reactions: Get/Put on directory and service",
    "metering.UsageRecordsFunction": "DynamoDBCrudPolicy on the usage table",
    "metering.ApiFunction": "the control plane's listings: Query on the usage table and its "
    "by-period index",
}
LEADING_KEYS = {
    "ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["TENANT#${aws:PrincipalTag/tenant_id}"]}
}
# The tenant directory's key is the tenant id itself (infra/platform.yaml: saas-tenants).
TENANT_ID_KEY = {
    "ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["${aws:PrincipalTag/tenant_id}"]}
}


def _template(service: str) -> dict[str, Any]:
    return dict(cfn_yaml.load(str(ROOT / "services" / service / "template.yaml")))


def _dynamodb_grants(policies: list[Any]) -> list[str]:
    """The DynamoDB grants among a function's Policies (SAM templates or statements)."""
    found = []
    for policy in policies:
        if isinstance(policy, str):
            found += [policy] if "dynamodb" in policy.lower() else []
            continue
        for name, body in policy.items():
            if name.startswith("DynamoDB"):
                found.append(name)
            elif name == "Statement":
                found += [
                    action
                    for statement in body
                    for action in _listed(statement.get("Action"))
                    if action.lower().startswith("dynamodb:")
                ]
    return found


def _listed(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def _functions() -> dict[str, dict[str, Any]]:
    found = {}
    for path in sorted((ROOT / "services").glob("*/template.yaml")):
        template = _template(path.parent.name)
        for logical_id, resource in (template.get("Resources") or {}).items():
            if resource.get("Type") == "AWS::Serverless::Function":
                found[f"{path.parent.name}.{logical_id}"] = resource.get("Properties") or {}
    return found


def test_only_the_listed_cross_tenant_functions_hold_a_dynamodb_grant() -> None:
    granted = {
        name
        for name, properties in _functions().items()
        if _dynamodb_grants(properties.get("Policies") or [])
    }
    assert granted == set(CROSS_TENANT_GRANTS)
    readme = (ROOT / "README.md").read_text()
    for name in CROSS_TENANT_GRANTS:
        assert f"`{name}`" in readme, f"README's isolation section does not list {name}"


@pytest.mark.parametrize("service", sorted(TENANT_SERVING))
def test_tenant_serving_functions_only_assume_the_tenant_access_role(service: str) -> None:
    template = _template(service)
    resources = template["Resources"]
    role = resources["TenantAccessRole"]["Properties"]
    role_name = role["RoleName"]["Fn::Sub"]
    assert role_name == f"saas-{service}-tenant-access-${{AWS::Region}}"
    for logical_id in TENANT_SERVING[service]:
        properties = resources[logical_id]["Properties"]
        policies = properties["Policies"]
        assert _dynamodb_grants(policies) == []
        (statement,) = [
            s
            for p in policies
            if isinstance(p, dict) and "Statement" in p
            for s in p["Statement"]
            if any(a.startswith("sts:") for a in _listed(s["Action"]))
        ]
        assert sorted(statement["Action"]) == ["sts:AssumeRole", "sts:TagSession"]
        assert statement["Resource"]["Fn::Sub"].endswith(f":role/{role_name}")
        variables = {
            **template["Globals"]["Function"]["Environment"]["Variables"],
            **(properties.get("Environment") or {}).get("Variables", {}),
        }
        assert variables["TENANT_ACCESS_ROLE_ARN"]["Fn::Sub"].endswith(f":role/{role_name}")

    trusted = {
        json.dumps(principal, sort_keys=True)
        for statement in role["AssumeRolePolicyDocument"]["Statement"]
        for principal in statement["Principal"]["AWS"]
    }
    assert trusted == {
        json.dumps({"Fn::GetAtt": [f"{f}Role", "Arn"]}, sort_keys=True)
        for f in TENANT_SERVING[service]
    }


def _access_statements(service: str) -> list[dict[str, Any]]:
    role = _template(service)["Resources"]["TenantAccessRole"]["Properties"]
    return [
        statement
        for policy in role["Policies"]
        for statement in policy["PolicyDocument"]["Statement"]
    ]


def _never_scans(statement: dict[str, Any]) -> None:
    assert statement["Effect"] == "Allow"
    actions = _listed(statement["Action"])
    # Scan names no key: ForAllValues would hold for it, over every tenant's items.
    assert all("*" not in action and action != "dynamodb:Scan" for action in actions)
    assert not any(a.startswith("dynamodb:PartiQL") for a in actions)


@pytest.mark.parametrize("service", ["order", "product"])
def test_the_tenant_access_role_reaches_one_tenants_keys_and_never_scans(service: str) -> None:
    statements = _access_statements(service)
    assert statements
    for statement in statements:
        _never_scans(statement)
        assert statement["Condition"] == LEADING_KEYS
        resources = json.dumps(statement["Resource"])
        assert f"tenant-${{aws:PrincipalTag/tenant_id}}-{service}s" in resources
        assert "table/tenant-*" not in resources


def test_the_tenant_services_access_role_reads_one_record_and_one_partition() -> None:
    """The tenant's record in the directory (read only, keyed by the tenant id itself) and its
    TENANT#<id> partition of the service table (users and their outbox items): nothing more."""
    directory, service_table = _access_statements("tenant")
    _never_scans(directory)
    assert directory["Action"] == "dynamodb:GetItem"
    assert directory["Resource"]["Fn::Sub"][1] == {
        "Table": {"Fn::ImportValue": "saas-tenant-table-name"}
    }
    assert directory["Condition"] == TENANT_ID_KEY
    _never_scans(service_table)
    assert sorted(service_table["Action"]) == [
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
    ]
    assert service_table["Resource"] == {"Fn::GetAtt": ["ServiceTable", "Arn"]}
    assert service_table["Condition"] == LEADING_KEYS


def test_the_metering_access_role_reads_one_tenants_usage_and_record() -> None:
    """The tenant's record in the directory (whether it exists) and its TENANT#<id> rows of the
    usage table, read only: never the by-period index (its key is the period, every tenant's)."""
    directory, usage = _access_statements("metering")
    _never_scans(directory)
    assert directory["Action"] == "dynamodb:GetItem"
    assert directory["Resource"]["Fn::Sub"][1] == {
        "Table": {"Fn::ImportValue": "saas-tenant-table-name"}
    }
    assert directory["Condition"] == TENANT_ID_KEY
    _never_scans(usage)
    assert sorted(usage["Action"]) == ["dynamodb:GetItem", "dynamodb:Query"]
    assert usage["Resource"] == {"Fn::GetAtt": ["UsageTable", "Arn"]}
    assert usage["Condition"] == LEADING_KEYS


@pytest.mark.parametrize("service", ["tenant", "metering"])
def test_the_routes_are_split_by_who_they_serve(service: str) -> None:
    """The TenantAdmin's routes run on the scoped function; the control plane keeps the
    SystemAdmin's routes alone (a route that serves a TenantAdmin never lands on it)."""
    package = f"{service}_service"
    permissions = json.loads(
        (ROOT / f"services/{service}/src/{package}/entrypoints/permissions.json").read_text()
    )
    tenant_admin_routes = {
        (r["method"], r["path"]) for r in permissions["routes"] if "TenantAdmin" in r["roles"]
    }
    resources = _template(service)["Resources"]

    def routes(function: str) -> set[tuple[str, str]]:
        events = resources[function]["Properties"]["Events"].values()
        return {(e["Properties"]["Method"], e["Properties"]["Path"]) for e in events}

    assert tenant_admin_routes
    assert tenant_admin_routes <= routes("TenantScopedApiFunction")
    assert not tenant_admin_routes & routes("ApiFunction")
    every_route = {(r["method"], r["path"]) for r in permissions["routes"]}
    assert routes("TenantScopedApiFunction") | routes("ApiFunction") == every_route
