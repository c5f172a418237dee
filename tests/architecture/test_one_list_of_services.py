"""One place lists the services: the folders services/<name>/ themselves.

The Makefile, the uv workspace, the import contracts and the local platform all read them;
none of those files names a service, so adding one is adding its folder.
"""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path

import pytest

from saas_devtools.contracts.discovery import find_services
from saas_local.platform import LocalPlatformError, deploy_order, service_templates
from saas_local.templates import load_template

ROOT = Path(__file__).resolve().parents[2]
SERVICES = find_services(ROOT)


def _distribution(service_root: Path) -> str:
    project = tomllib.loads((service_root / "pyproject.toml").read_text())["project"]
    return str(project["name"])


def test_the_makefile_finds_the_services_the_tools_find():
    listed = subprocess.run(
        ["make", "-s", "--no-print-directory", "list-services"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\n")

    assert [line.split() for line in listed if line] == [
        [s.name, _distribution(s.root), s.package] for s in SERVICES
    ]


def test_no_list_of_services_is_kept_by_hand():
    names = {s.name for s in SERVICES} | {s.package for s in SERVICES}
    names |= {_distribution(s.root) for s in SERVICES}
    for path in ("Makefile", "pyproject.toml", ".importlinter"):
        text = (ROOT / path).read_text()
        marks = (" {}\n", '"{}"', "{} :=")
        named = sorted(n for n in names if any(m.format(n) in text for m in marks))
        assert not named, f"{path} names {named}"


def test_every_service_is_a_member_of_the_locked_workspace():
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    editable = {
        p["name"]: p["source"]["editable"]
        for p in lock["package"]
        if "editable" in p.get("source", {})
    }

    for service in SERVICES:
        assert editable.get(_distribution(service.root)) == f"services/{service.name}"


def test_the_local_platform_deploys_every_template_after_what_it_imports():
    ordered = service_templates(ROOT)
    exported_by = {}
    for position, path in enumerate(ordered):
        for output in (load_template(path).get("Outputs") or {}).values():
            name = (output.get("Export") or {}).get("Name")
            if isinstance(name, str):
                exported_by[name] = position

    assert sorted(p.parent.name for p in ordered) == sorted(
        p.parent.name for p in ROOT.glob("services/*/template.yaml")
    )
    for position, path in enumerate(ordered):
        text = path.read_text()
        for name, exporter in exported_by.items():
            if f"ImportValue {name}\n" in text or f"ImportValue: {name}\n" in text:
                assert exporter < position, f"{path.parent.name} imports {name} before it exists"
    names = [p.parent.name for p in ordered]
    assert names.index("tenant") < names.index("order")  # the authorizer's ARN


def _template(tmp_path: Path, name: str, imports: list[str], exports: list[str]) -> Path:
    path = tmp_path / name / "template.yaml"
    path.parent.mkdir()
    resources = "\n".join(
        f"  Q{i}:\n    Type: AWS::SQS::Queue\n    Properties:\n"
        f"      QueueName: !ImportValue {imported}"
        for i, imported in enumerate(imports)
    )
    outputs = "\n".join(
        f"  O{i}:\n    Value: x\n    Export: {{Name: {exported}}}"
        for i, exported in enumerate(exports)
    )
    path.write_text(
        "Resources:\n"
        + (resources or "  Q:\n    Type: AWS::SQS::Queue")
        + ("\nOutputs:\n" + outputs if outputs else "")
        + "\n"
    )
    return path


def test_a_new_service_takes_its_place_from_what_it_imports(tmp_path):
    alpha = _template(tmp_path, "alpha", ["zeta-arn", "saas-event-bus-arn"], [])
    zeta = _template(tmp_path, "zeta", [], ["zeta-arn"])
    middle = _template(tmp_path, "middle", [], [])

    assert deploy_order([alpha, middle, zeta]) == [middle, zeta, alpha]


def test_templates_that_import_each_other_are_refused(tmp_path):
    one = _template(tmp_path, "one", ["two-arn"], ["one-arn"])
    two = _template(tmp_path, "two", ["one-arn"], ["two-arn"])

    with pytest.raises(LocalPlatformError, match="cycle: one, two"):
        deploy_order([one, two])
