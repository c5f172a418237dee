"""A failed provisioning, retried once its cause is fixed, makes the tenant ACTIVE, once.

The provisioner here deploys a tenant template that imports an export nobody made (the drill of
tests/e2e/provisioning_failure_scenario.py); the fix is to make that export.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

import pytest
from invariants import ROOT, call

sys.path.insert(0, str(ROOT / "tests" / "e2e"))

from provisioning_failure_scenario import provisioner_template

pytestmark = pytest.mark.slow

MISSING_EXPORT = "saas-tenant-encryption-key-that-was-never-exported"
TIMEOUT = 180.0

# The drill's template, with a parameter name (moto's SSM parameter needs one to deploy at all):
# it fails only for the missing export.
TENANT_TEMPLATE = f"""\
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  TenantId: {{Type: String}}
  Tier: {{Type: String}}
  Config: {{Type: String}}
Resources:
  ConfigParameter:
    Type: AWS::SSM::Parameter
    Properties:
      Name: !Sub "/saas/tenant/${{TenantId}}/key"
      Type: String
      Value: !ImportValue {MISSING_EXPORT}
"""

THE_EXPORT = {
    "Resources": {
        "Key": {
            "Type": "AWS::SSM::Parameter",
            "Properties": {"Name": "/saas/keys/tenant", "Type": "String", "Value": "k1"},
        }
    },
    "Outputs": {"Key": {"Value": "k1", "Export": {"Name": MISSING_EXPORT}}},
}


def test_a_failed_tenant_is_retried_to_active_once_the_cause_is_fixed(tmp_path: Path) -> None:
    from saas_local.platform import service_templates
    from saas_local.testing import start_platform

    templates = [
        provisioner_template(tmp_path) if path.parent.name == "provisioner" else path
        for path in service_templates(ROOT)
    ]
    (tmp_path / "tenant-environment.yaml").write_text(TENANT_TEMPLATE)
    with start_platform(ROOT, templates, region_map={"us": "us-east-1"}) as platform:
        root = platform.login(*platform.system_admin)
        body = {
            "name": "Retried",
            "tier": "basic",
            "region_group": "us",
            "admin_email": "owner@retried.test",
        }
        answer = call(platform, "POST", "/tenants", token=root, json_body=body, idempotent=True)
        assert answer.status == 202, answer.text
        tenant_id = answer.json()["id"]

        def tenant() -> dict[str, str]:
            got: dict[str, str] = platform.api("GET", f"/tenants/{tenant_id}", token=root).json()
            return got

        # Given a tenant whose provisioning failed, with the reason
        failed = platform.wait_until(
            lambda: (t := tenant())["status"] != "PROVISIONING" and t, timeout=TIMEOUT
        )
        assert failed["status"] == "PROVISIONING_FAILED"
        assert failed["status_reason"] == f"No export named {MISSING_EXPORT} found."
        # And a retry before the cause is fixed would change nothing else: ACTIVE is refused
        activate = platform.api("POST", f"/tenants/{tenant_id}/activate", token=root)
        assert activate.status == 409

        # When the cause is fixed and a SystemAdmin retries
        cloudformation = platform.client("cloudformation")
        cloudformation.create_stack(StackName="tenant-keys", TemplateBody=json.dumps(THE_EXPORT))
        platform.wait_until(
            lambda: (
                cloudformation.describe_stacks(StackName="tenant-keys")["Stacks"][0]["StackStatus"]
                == "CREATE_COMPLETE"
            ),
            timeout=60,
        )
        retried = platform.api("POST", f"/tenants/{tenant_id}/retry-provisioning", token=root)
        assert retried.status == 202, retried.text
        assert retried.json()["status"] == "PROVISIONING"

        # Then it becomes ACTIVE, with one stack, and a second retry is refused with a message
        platform.wait_until(lambda: tenant()["status"] == "ACTIVE", timeout=TIMEOUT, interval=0.5)
        stacks = [
            s
            for s in cloudformation.list_stacks()["StackSummaries"]
            if s["StackName"] == f"tenant-{tenant_id}" and s["StackStatus"] != "DELETE_COMPLETE"
        ]
        assert len(stacks) == 1
        again = platform.api("POST", f"/tenants/{tenant_id}/retry-provisioning", token=root)
        assert again.status == 409
        assert again.json()["message"] == (
            f"tenant '{tenant_id}' is ACTIVE: cannot retry provisioning"
        )

        # And the event log tells the story once: failed, retried, provisioned
        def logged() -> Counter[str]:
            items = platform.client("dynamodb").query(
                TableName="saas-event-log",
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": {"S": f"TENANT#{tenant_id}"}},
            )["Items"]
            return Counter(json.loads(i["event"]["S"])["detail-type"] for i in items)

        kinds = platform.wait_until(
            lambda: (k := logged())["TenantProvisioned"] and k, timeout=60, interval=0.5
        )
        assert kinds["TenantProvisioningFailed"] == 1
        assert kinds["TenantProvisioningRetried"] == 1
        assert kinds["TenantProvisioned"] == 1
