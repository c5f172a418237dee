"""Adding a service is one command: proven on a throwaway fifth service in a copy of the repository.

Given a copy of the repository as it is (tracked files and working changes, no environment),
when `make new-service` scaffolds a service there, then `make lint` passes over the whole
workspace with it (ruff, mypy over its package, the import contracts, cfn-lint, contract drift)
and `make test SERVICE=<it>` passes. Packages come from uv's cache, not the network; locking a
new member offline needs the index pages in that cache, so only that step may go online.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NAME = "scaffold-probe"
PACKAGE = "scaffold_probe_service"

pytestmark = pytest.mark.slow


def _copy_repository(target: Path) -> None:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for relative in filter(None, listed.split("\0")):
        source = ROOT / relative
        if source.is_file():  # a tracked file deleted in the working tree is gone here too
            (target / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / relative)


def _uv() -> str:
    found = shutil.which("uv") or str(ROOT / ".tools/bin/uv")
    if not Path(found).is_file():
        pytest.skip("no uv on PATH nor in .tools/bin (run `make uv`)")
    return found


def _make(copy: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_a_scaffolded_fifth_service_passes_lint_and_its_tests(tmp_path):
    copy = tmp_path / "repository"
    _copy_repository(copy)
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT", "PYTHONPATH"}
    }
    env["PATH"] = os.pathsep.join([str(Path(_uv()).parent), env.get("PATH", "")])
    offline = {**env, "UV_OFFLINE": "1"}

    created = _make(copy, offline, "new-service", f"NAME={NAME}")
    if created.returncode != 0 and "network" in created.stderr:
        shutil.rmtree(copy / "services" / NAME, ignore_errors=True)
        created = _make(copy, env, "new-service", f"NAME={NAME}")
    assert created.returncode == 0, created.stdout + created.stderr
    assert (copy / "services" / NAME / "src" / PACKAGE / "container.py").is_file()

    lint = _make(copy, offline, "lint")
    assert lint.returncode == 0, (lint.stdout + lint.stderr)[-6000:]
    assert f"-p {PACKAGE}" in lint.stdout  # mypy covered it
    assert "contracts match the code" in lint.stdout

    tested = _make(copy, offline, "test", f"SERVICE={NAME}")
    assert tested.returncode == 0, (tested.stdout + tested.stderr)[-6000:]
    assert " passed" in tested.stdout
    assert " failed" not in tested.stdout
