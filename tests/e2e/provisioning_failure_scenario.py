"""A local platform (tenant service + provisioner) whose provisioner deploys a tenant template
that cannot deploy; registers a tenant, waits for its final status, prints it as JSON.

Run by test_provisioning.py in a process of its own (moto keeps its state per process):
    python provisioning_failure_scenario.py <work dir>
"""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path

from saas_local.testing import start_platform

ROOT = Path(__file__).resolve().parents[2]
FLOW_TIMEOUT = 120.0

FAILING_TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  TenantId: {Type: String}
  Tier: {Type: String}
  Config: {Type: String}
Resources:
  ConfigParameter:
    Type: AWS::SSM::Parameter
    Properties:
      Type: String
      Value: !ImportValue saas-tenant-encryption-key-that-was-never-exported
"""


def provisioner_template(workdir: Path) -> Path:
    """services/provisioner/template.yaml with the failing template and two attempts."""
    template = (ROOT / "services/provisioner/template.yaml").read_text()
    marker = '          STACK_WAIT_SECONDS: "240"\n'
    if marker not in template:
        raise SystemExit("the provisioner template no longer sets STACK_WAIT_SECONDS")
    failing = workdir / "tenant-environment.yaml"
    failing.write_text(FAILING_TEMPLATE)
    overridden = template.replace("          MAX_ATTEMPTS: !Ref MaxAttempts\n", "").replace(
        marker,
        marker + f"          TENANT_TEMPLATE_PATH: {failing}\n" + '          MAX_ATTEMPTS: "2"\n',
    )
    path = workdir / "provisioner" / "template.yaml"  # the directory names the service
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(overridden)
    return path


def main(workdir: Path) -> None:
    from saas_local.platform import service_templates

    # Every service as in `make run`, the provisioner's template swapped for the failing one.
    templates = [
        provisioner_template(workdir) if path.parent.name == "provisioner" else path
        for path in service_templates(ROOT)
    ]
    with start_platform(ROOT, templates) as platform:
        token = platform.login(*platform.system_admin)
        response = platform.api(
            "POST",
            "/tenants",
            token=token,
            json={
                "name": "Doomed",
                "tier": "basic",
                "region_group": "eu",
                "admin_email": "admin@doomed.example",
            },
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        if response.status != 202:
            raise SystemExit(f"POST /tenants answered {response.status}: {response.text}")
        tenant_id = response.json()["id"]

        def settled() -> dict[str, object] | None:
            tenant: dict[str, object] = platform.api(
                "GET", f"/tenants/{tenant_id}", token=token
            ).json()
            return None if tenant["status"] == "PROVISIONING" else tenant

        tenant = platform.wait_until(settled, timeout=FLOW_TIMEOUT, interval=0.5)
        summaries = platform.client("cloudformation", "eu-west-1").list_stacks()["StackSummaries"]
        stack_left = any(
            s["StackName"] == f"tenant-{tenant_id}" and s["StackStatus"] != "DELETE_COMPLETE"
            for s in summaries
        )
    print(json.dumps({"tenant": tenant, "stack_left": stack_left}))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
