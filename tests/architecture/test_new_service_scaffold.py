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
import sys
from pathlib import Path

import pytest

from saas_devtools.scaffold import ScaffoldError, ServiceNames, render, tidy

ROOT = Path(__file__).resolve().parents[2]
NAME = "scaffold-probe"
PACKAGE = "scaffold_probe_service"
RUFF = Path(sys.executable).with_name("ruff")


@pytest.mark.parametrize("name", ["ab", "abcdefghijk-abcdefghijkl"])
def test_the_scaffold_writes_lint_clean_code_for_short_and_long_names(tmp_path, name):
    (tmp_path / "services").mkdir()
    # The repository's ruff settings, read where they apply (per-file rules name paths).
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    written = render(tmp_path, ServiceNames.of(name))
    tidy(tmp_path / "services" / name)

    assert not [p for p in written if "{{" in p.read_text() or "{{" in str(p)]
    for command in (["check"], ["format", "--check"]):
        checked = subprocess.run(
            [str(RUFF), *command, "services"], cwd=tmp_path, capture_output=True, text=True
        )
        assert checked.returncode == 0, checked.stdout


@pytest.mark.parametrize("name", ["Invoice", "gift_card", "-x", "x" * 25, "order"])
def test_a_name_that_is_not_a_new_service_name_is_refused(tmp_path, name):
    (tmp_path / "services/order/src/order_service").mkdir(parents=True)

    with pytest.raises(ScaffoldError):
        render(tmp_path, ServiceNames.of(name))


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


@pytest.mark.slow
def test_a_scaffolded_fifth_service_passes_lint_and_its_tests(tmp_path):
    copy = tmp_path / "repository"
    _copy_repository(copy)
    env = {
        key: value
        for key, value in os.environ.items()
        # MAKEFLAGS: a `make -s test` around this run would silence the commands checked below
        if key not in {"VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT", "PYTHONPATH", "MAKEFLAGS"}
        and key != "MAKELEVEL"
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
