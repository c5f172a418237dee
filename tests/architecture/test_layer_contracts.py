"""The hexagon is enforced, not hoped for: a forbidden import breaks `saas-lint-imports`.

`.importlinter` states each rule once for every service. Given a copy of the source tree with
forbidden imports added to one service, when the import contracts run on it, then each rule
fails and names that service's import: every rule holds for every service, not just for the
one a hand-written block happened to name.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from saas_devtools.contracts.discovery import find_services

ROOT = Path(__file__).resolve().parents[2]
LINT = Path(sys.executable).with_name("saas-lint-imports")
PACKAGES = [service.package for service in find_services(ROOT)]

INDEPENDENT = "No service imports another service"
THIN = "tenant-context imports no service and makes no AWS calls"
HEXAGON = "Every service: entrypoints > container > adapters | app > ports > domain"
DOMAIN = "Every service: domain is pure (standard library, pydantic, itself)"
PORTS = "Every service: ports import only domain (and tenant-context's values)"
APP = "Every service: use cases reach AWS and Fauna only through ports"
ENTRYPOINTS = "Every service: entrypoints reach adapters only through the container"
EVENT_LOG = (
    "saas_devtools: the event log recorder (runtime, in Lambda) imports no developer tool "
    "or service"
)
CONTRACTS = [INDEPENDENT, THIN, HEXAGON, DOMAIN, PORTS, APP, ENTRYPOINTS, EVENT_LOG]


def _copy_workspace(tmp_path: Path) -> Path:
    """The sources (services, tenant-context, tools) and .importlinter, nothing else."""
    workspace = tmp_path / "workspace"
    sources = [
        ROOT / "shared/tenant-context/src",
        ROOT / "tools/src",
        *sorted(ROOT.glob("services/*/src")),
    ]
    for src in sources:
        shutil.copytree(
            src,
            workspace / src.relative_to(ROOT),
            ignore=shutil.ignore_patterns("__pycache__"),
        )
    shutil.copy(ROOT / ".importlinter", workspace / ".importlinter")
    return workspace


def _add_import(workspace: Path, module: str, line: str) -> None:
    target = next(workspace.glob(f"*/*/src/{module}"), None) or next(
        workspace.glob(f"tools/src/{module}")
    )
    target.write_text(target.read_text() + f"\n{line}  # noqa\n")


def _lint(workspace: Path) -> subprocess.CompletedProcess[str]:
    roots = [str(p) for p in sorted(workspace.glob("*/*/src"))] + [str(workspace / "tools/src")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(roots), "COLUMNS": "1000"}
    return subprocess.run(
        [str(LINT), "--workspace", str(workspace)],
        cwd=workspace,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def _broken_sections(output: str) -> dict[str, str]:
    """Each broken contract's part of the report, by contract name."""
    report = " ".join(output.split())
    broken = report.partition("Broken contracts")[2]
    starts = sorted((broken.find(f"{name} -"), name) for name in CONTRACTS if f"{name} -" in broken)
    return {
        name: broken[start : (starts[i + 1][0] if i + 1 < len(starts) else len(broken))]
        for i, (start, name) in enumerate(starts)
    }


def test_every_service_is_held_and_none_is_named_in_the_config():
    config = (ROOT / ".importlinter").read_text()

    assert len(PACKAGES) >= 4
    assert not [p for p in PACKAGES if p in config]


def test_the_tree_as_it_is_keeps_every_contract(tmp_path):
    result = _lint(_copy_workspace(tmp_path))

    assert result.returncode == 0, result.stdout + result.stderr
    report = " ".join(result.stdout.split())
    assert all(f"{name} KEPT" in report for name in CONTRACTS), report


@pytest.mark.parametrize("package", PACKAGES)
def test_every_rule_fails_on_a_forbidden_import_in_each_service(tmp_path, package):
    other = next(p for p in PACKAGES if p != package)
    violations = {
        INDEPENDENT: ("app/__init__.py", f"import {other}", f"{package}.app -> {other}"),
        HEXAGON: (
            "domain/model_violation.py",
            f"from {package} import adapters",
            f"{package}.domain.model_violation -> {package}.adapters",
        ),
        DOMAIN: (
            "domain/__init__.py",
            "import tenant_context",
            f"{package}.domain -> tenant_context",
        ),
        PORTS: ("ports/__init__.py", "import jwt", f"{package}.ports -> jwt"),
        APP: ("app/__init__.py", "import botocore", f"{package}.app -> botocore"),
        ENTRYPOINTS: (
            "entrypoints/__init__.py",
            f"from {package} import adapters",
            f"{package}.entrypoints -> {package}.adapters",
        ),
        THIN: (
            "../tenant_context/__init__.py",
            f"import {package}",
            f"tenant_context -> {package}",
        ),
        EVENT_LOG: (
            "../saas_devtools/event_log/__init__.py",
            f"import {package}",
            f"saas_devtools.event_log -> {package}",
        ),
    }
    workspace = _copy_workspace(tmp_path)
    for module, line, _ in violations.values():
        if module.startswith("../"):
            _add_import(workspace, module.removeprefix("../"), line)
        elif module.endswith("_violation.py"):
            (next(workspace.glob(f"services/*/src/{package}")) / module).write_text(line + "\n")
        else:
            _add_import(workspace, f"{package}/{module}", line)

    result = _lint(workspace)

    assert result.returncode != 0
    sections = _broken_sections(result.stdout)
    for contract, (_, _, reported) in violations.items():
        assert reported in sections.get(contract, ""), (contract, result.stdout)


def test_tenant_context_making_an_aws_call_fails(tmp_path):
    workspace = _copy_workspace(tmp_path)
    _add_import(workspace, "tenant_context/__init__.py", "import boto3")

    result = _lint(workspace)

    assert result.returncode != 0
    assert "tenant_context -> boto3" in _broken_sections(result.stdout).get(THIN, "")
