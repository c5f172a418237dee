"""The tenant template the package reads is infra/tenant-environment.yaml, byte for byte. The wheel
force-includes infra's file; the editable install cannot see a force-include, so it reads the
committed copy in src/provisioner/templates/, which this keeps equal."""

from __future__ import annotations

from pathlib import Path

from provisioner.adapters.tenant_template import packaged_template_body

INFRA_TEMPLATE = Path(__file__).resolve().parents[4] / "infra" / "tenant-environment.yaml"


def test_the_shipped_template_is_infras():
    assert packaged_template_body() == INFRA_TEMPLATE.read_text(encoding="utf-8"), (
        "copy infra/tenant-environment.yaml to src/provisioner/templates/"
    )
