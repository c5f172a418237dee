"""The tenant template shipped inside the package is infra/tenant-environment.yaml, byte for byte
(editable installs cannot see a hatch force-include, so the package carries a committed copy)."""

from __future__ import annotations

from pathlib import Path

from provisioner.adapters.cloudformation_tenant_stacks import packaged_template_body

INFRA_TEMPLATE = Path(__file__).resolve().parents[4] / "infra" / "tenant-environment.yaml"


def test_the_shipped_template_is_infras():
    assert packaged_template_body() == INFRA_TEMPLATE.read_text(encoding="utf-8"), (
        "copy infra/tenant-environment.yaml to src/provisioner/templates/"
    )
