"""Settings every Lambda function of every service template must carry (cold start, tracing)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import cfn_yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted((ROOT / "services").glob("*/template.yaml"))


def _functions(template_path: Path) -> list[tuple[str, dict[str, Any]]]:
    template = dict(cfn_yaml.load(str(template_path)))
    globals_ = (template.get("Globals") or {}).get("Function") or {}
    global_variables = (globals_.get("Environment") or {}).get("Variables") or {}
    found = []
    for logical_id, resource in (template.get("Resources") or {}).items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        props = resource.get("Properties") or {}
        variables = {
            **global_variables,
            **((props.get("Environment") or {}).get("Variables") or {}),
        }
        found.append((f"{template_path.parent.name}.{logical_id}", variables))
    return found


FUNCTIONS = [f for t in TEMPLATES for f in _functions(t)]


def test_every_service_template_declares_functions() -> None:
    assert {name.split(".")[0] for name, _ in FUNCTIONS} >= {
        "order",
        "product",
        "tenant",
        "provisioner",
        "event-log",
    }


@pytest.mark.parametrize(("name", "variables"), FUNCTIONS, ids=[n for n, _ in FUNCTIONS])
def test_pydantic_does_not_search_for_plugins_at_cold_start(
    name: str, variables: dict[str, Any]
) -> None:
    assert variables.get("PYDANTIC_DISABLE_PLUGINS") == "__all__", name


def _handler_modules() -> list[Path]:
    modules = []
    for template_path in TEMPLATES:
        template = dict(cfn_yaml.load(str(template_path)))
        globals_ = (template.get("Globals") or {}).get("Function") or {}
        for resource in (template.get("Resources") or {}).values():
            if resource.get("Type") != "AWS::Serverless::Function":
                continue
            handler = {**globals_, **(resource.get("Properties") or {})}["Handler"]
            module = handler.rpartition(".")[0]
            found = list((ROOT / "services").glob(f"*/src/{module.replace('.', '/')}.py"))
            modules += found  # the event log's handler lives in tools/, not a service
    return sorted(set(modules))


HANDLERS = _handler_modules()


def test_handler_modules_are_found() -> None:
    assert len(HANDLERS) >= 13


@pytest.mark.parametrize("path", HANDLERS, ids=lambda p: f"{p.parts[-4]}.{p.stem}")
def test_a_handler_collects_no_garbage_during_init_and_freezes_what_init_built(path: Path) -> None:
    import ast

    body = ast.parse(path.read_text(encoding="utf-8")).body
    statements = [
        ast.unparse(node)
        for node in body
        if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))
        and not (isinstance(node, ast.ImportFrom) and node.module == "__future__")
    ]
    assert statements[:2] == ["import gc", "gc.disable()"], path
    assert statements[-2:] == ["gc.freeze()", "gc.enable()"], path
