"""The per-service CI workflows are generated from the services' folders.

Given the repository, the committed .github/workflows are exactly what `saas-pipelines` writes
(one per services/<name>/template.yaml, plus ci.yml); given a new service folder, a workflow for
it is generated, runs only on its paths and deploys on main alone; a workflow left for a removed
service is reported.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from saas_devtools import pipelines

REPOSITORY = Path(__file__).resolve().parents[2]


def test_the_committed_workflows_are_the_generated_ones() -> None:
    assert pipelines.differences(REPOSITORY) == []
    names = {p.name for p in (REPOSITORY / ".github" / "workflows").glob("*.yml")}
    assert names == {"ci.yml", *(f"{s}.yml" for s in pipelines.services(REPOSITORY))}
    assert {"order", "product", "tenant", "provisioner"} <= set(pipelines.services(REPOSITORY))


def test_the_repository_wide_workflow_runs_ci_run() -> None:
    workflow = (REPOSITORY / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8")
    assert "run: .ci/run" in workflow
    assert "paths:" not in workflow


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    for name in ("order", "invoice"):
        (root / "services" / name / "src" / f"{name}_service").mkdir(parents=True)
        (root / "services" / name / "src" / f"{name}_service" / "__init__.py").touch()
        (root / "services" / name / "pyproject.toml").write_text("[project]\n")
        shutil.copy(REPOSITORY / "services" / "order" / "template.yaml", root / "services" / name)
    return root


def test_a_new_service_gets_its_own_workflow(workspace: Path) -> None:
    assert pipelines.write(workspace) == [
        Path(".github/workflows/invoice.yml"),
        Path(".github/workflows/order.yml"),
        Path(".github/workflows/ci.yml"),
    ]
    invoice = (workspace / ".github/workflows/invoice.yml").read_text(encoding="utf-8")

    assert '- "services/invoice/**"' in invoice
    assert "services/order" not in invoice
    assert '- "shared/tenant-context/**"' in invoice
    for step in (
        "make test SERVICE=invoice",
        "make package SERVICE=invoice",
        'make can-i-deploy SERVICE=invoice STAGE="$STAGE"',
        'make deploy SERVICE=invoice STAGE="$STAGE"',
    ):
        assert step in invoice
    deploy_job = invoice.split("\n  deploy:\n")[1]
    assert "if: github.ref == 'refs/heads/main'" in deploy_job
    assert "role-to-assume: ${{ vars.AWS_DEPLOY_ROLE_ARN }}" in deploy_job
    assert "secrets." not in invoice
    assert pipelines.differences(workspace) == []


def test_a_workflow_out_of_date_or_left_for_a_removed_service_is_reported(
    workspace: Path,
) -> None:
    pipelines.write(workspace)
    shutil.rmtree(workspace / "services" / "invoice")
    order = workspace / ".github/workflows/order.yml"
    order.write_text(order.read_text(encoding="utf-8") + "# hand edit\n", encoding="utf-8")

    assert pipelines.differences(workspace) == [
        ".github/workflows/order.yml: differs from the generated one",
        ".github/workflows/invoice.yml: generated for a service that no longer exists",
    ]
    assert pipelines.main(["--check", "--workspace", str(workspace)]) == 1
