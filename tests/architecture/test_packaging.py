"""`make package SERVICE=x` ships that service alone: its code, tenant-context and its runtime
dependencies, without boto3 (the Lambda runtime has it) and without any other service."""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = {
    "order": "order_service",
    "product": "product_service",
    "tenant": "tenant_service",
    "provisioner": "provisioner",
}


@pytest.mark.parametrize("service", ["order", "provisioner"])
def test_a_package_holds_one_service_and_no_other(service):
    subprocess.run(["make", "-s", "package", f"SERVICE={service}"], cwd=ROOT, check=True)

    with zipfile.ZipFile(ROOT / "dist" / f"{service}.zip") as archive:
        names = set(archive.namelist())
    top_level = {name.split("/", 1)[0] for name in names}
    source = ROOT / "services" / service / "src"
    shipped_source = {p.relative_to(source).as_posix() for p in source.rglob("*.py")}

    assert shipped_source <= names, f"stale package, missing: {sorted(shipped_source - names)}"

    assert PACKAGES[service] in top_level
    assert "tenant_context" in top_level
    assert "pydantic" in top_level
    others = set(PACKAGES.values()) - {PACKAGES[service]}
    assert not top_level & others, f"other services shipped: {top_level & others}"
    assert not top_level & {"boto3", "botocore", "s3transfer"}
    assert not top_level & {"pytest", "moto", "_pytest"}, "dev dependencies shipped"

    # Every module ships compiled for the runtime (python3.11), trusted without a timestamp
    # check: Lambda cannot write bytecode next to a read-only /var/task.
    modules = {n for n in names if n.endswith(".py")}
    compiled = {
        n.replace("__pycache__/", "").replace(".cpython-311.pyc", ".py")
        for n in names
        if n.endswith(".cpython-311.pyc")
    }
    assert modules <= compiled, f"shipped without bytecode: {sorted(modules - compiled)[:5]}"
    with zipfile.ZipFile(ROOT / "dist" / f"{service}.zip") as archive:
        header = archive.read(f"{PACKAGES[service]}/__pycache__/__init__.cpython-311.pyc")[:8]
    flags = int.from_bytes(header[4:8], "little")
    assert flags == 0b01, "bytecode must be hash-based and unchecked (PEP 552)"


def test_an_unknown_service_is_refused():
    result = subprocess.run(
        ["make", "-s", "package", "SERVICE=billing"], cwd=ROOT, capture_output=True, text=True
    )

    assert result.returncode != 0
    assert "SERVICE must be one of" in result.stdout + result.stderr
