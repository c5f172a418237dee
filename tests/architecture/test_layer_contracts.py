"""The hexagon is enforced, not hoped for: a forbidden import breaks `lint-imports`.

Given a copy of the source tree with one forbidden import added, when import-linter runs on it,
then it fails and names the broken contract.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
SOURCES = [ROOT / "shared/tenant-context/src", *sorted(ROOT.glob("services/*/src"))]


def _lint_copy(
    tmp_path: Path, violation: tuple[str, str] | None
) -> subprocess.CompletedProcess[str]:
    roots = []
    for src in SOURCES:
        copy = tmp_path / src.parent.name
        shutil.copytree(src, copy, ignore=shutil.ignore_patterns("__pycache__"))
        roots.append(copy)
    if violation:
        module, line = violation
        target = next(r / module for r in roots if (r / module).exists())
        target.write_text(target.read_text() + f"\n{line}\n")
    shutil.copy(ROOT / ".importlinter", tmp_path / ".importlinter")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(r) for r in roots)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(tmp_path / ".importlinter")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_tree_as_it_is_keeps_every_contract(tmp_path):
    result = _lint_copy(tmp_path, None)

    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        (
            "order_service/app/__init__.py",
            "import product_service  # noqa",
            "No service imports another service BROKEN",
        ),
        (
            "product_service/domain/__init__.py",
            "from product_service import adapters  # noqa",
            "product_service: domain is pure (standard library, pydantic, itself) BROKEN",
        ),
        (
            "order_service/domain/__init__.py",
            "import boto3  # noqa",
            "order_service: domain is pure (standard library, pydantic, itself) BROKEN",
        ),
        (
            "tenant_service/entrypoints/__init__.py",
            "from tenant_service import adapters  # noqa",
            "tenant_service: entrypoints reach adapters only through the container BROKEN",
        ),
        (
            "provisioner/ports/__init__.py",
            "from provisioner import app  # noqa",
            "provisioner: ports import only domain BROKEN",
        ),
        (
            "tenant_context/__init__.py",
            "import order_service  # noqa",
            "tenant-context imports no service and makes no AWS calls BROKEN",
        ),
    ],
)
def test_a_forbidden_import_fails_the_lint(tmp_path, module, line, broken):
    result = _lint_copy(tmp_path, (module, line))

    assert result.returncode != 0
    assert broken in " ".join(result.stdout.split())
