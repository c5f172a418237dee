"""Tenant environments end to end through the local platform: POST /tenants -> the tenant table
-> its stream -> the provisioner -> STS + CloudFormation in the tenant's region -> the bus -> the
tenant service -> ACTIVE; config changes update the stack; offboarding deletes it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
FLOW_TIMEOUT = 120.0  # a bound for a loaded 2-core machine, not a timing
EU, HOME = "eu-west-1", "us-east-1"

pytestmark = pytest.mark.slow


def admin_token(platform: Any) -> str:
    return platform.login(*platform.system_admin)


def register(platform: Any, token: str, **body: Any) -> str:
    response = platform.api(
        "POST",
        "/tenants",
        token=token,
        json={"name": "Acme", "admin_email": f"admin-{uuid.uuid4().hex[:8]}@acme.example", **body},
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert response.status == 202, response.text
    return str(response.json()["id"])


def wait_for_status(platform: Any, token: str, tenant_id: str, status: str) -> dict[str, Any]:
    def reached() -> dict[str, Any] | None:
        tenant: dict[str, Any] = platform.api("GET", f"/tenants/{tenant_id}", token=token).json()
        return tenant if tenant["status"] == status else None

    return platform.wait_until(reached, timeout=FLOW_TIMEOUT, interval=0.5)


def stack(platform: Any, region: str, name: str) -> dict[str, Any] | None:
    cloudformation = platform.client("cloudformation", region)
    for summary in cloudformation.list_stacks()["StackSummaries"]:
        if summary["StackName"] == name and summary["StackStatus"] != "DELETE_COMPLETE":
            return dict(cloudformation.describe_stacks(StackName=name)["Stacks"][0])
    return None


def config_parameter(found: dict[str, Any]) -> str:
    return next(p["ParameterValue"] for p in found["Parameters"] if p["ParameterKey"] == "Config")


def test_a_premium_eu_tenant_gets_its_stack_changes_it_and_leaves_nothing(local_platform):
    token = admin_token(local_platform)

    tenant_id = register(
        local_platform, token, tier="premium", region_group="eu", config={"theme": "dark"}
    )
    wait_for_status(local_platform, token, tenant_id, "ACTIVE")

    name = f"tenant-{tenant_id}"
    created = stack(local_platform, EU, name)
    assert created is not None
    assert created["StackStatus"] == "CREATE_COMPLETE"
    assert stack(local_platform, HOME, name) is None
    eu_tables = local_platform.client("dynamodb", EU).list_tables()["TableNames"]
    assert {f"{name}-products", f"{name}-orders"} <= set(eu_tables)

    changed = local_platform.api(
        "PATCH", f"/tenants/{tenant_id}", token=token, json={"config": {"theme": "light"}}
    )
    assert changed.status == 200, changed.text
    updated = local_platform.wait_until(
        lambda: (
            (s := stack(local_platform, EU, name))
            and config_parameter(s) == '{"theme":"light"}'
            and s
        ),
        timeout=FLOW_TIMEOUT,
        interval=0.5,
    )
    assert updated["StackStatus"] == "UPDATE_COMPLETE"

    offboarded = local_platform.api("DELETE", f"/tenants/{tenant_id}", token=token)
    assert offboarded.status == 202, offboarded.text
    wait_for_status(local_platform, token, tenant_id, "OFFBOARDED")
    assert stack(local_platform, EU, name) is None
    eu_tables = local_platform.client("dynamodb", EU).list_tables()["TableNames"]
    assert not {f"{name}-products", f"{name}-orders"} & set(eu_tables)


def test_a_template_that_fails_leaves_the_tenant_provisioning_failed_with_the_reason(tmp_path):
    """In its own process: moto's state is per process, and this platform's provisioner deploys
    a template that cannot deploy (set through TENANT_TEMPLATE_PATH)."""
    scenario = Path(__file__).with_name("provisioning_failure_scenario.py")
    result = subprocess.run(
        [sys.executable, str(scenario), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**os.environ, "AWS_DEFAULT_REGION": HOME},
    )
    assert result.returncode == 0, result.stderr[-4000:]
    outcome = json.loads(result.stdout.strip().splitlines()[-1])

    assert outcome["tenant"]["status"] == "PROVISIONING_FAILED"
    assert outcome["tenant"]["status_reason"] == (
        "No export named saas-tenant-encryption-key-that-was-never-exported found."
    )
    assert outcome["stack_left"] is False
