"""The Lambda functions a service's template declares: what the benchmarks load and call."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# Where a benchmark on the local platform sends its functions' log lines (the last run's), so
# that they do not bury the figures.
FUNCTION_LOG = ROOT / ".local" / "bench-functions.log"


def fresh_function_log() -> Path:
    FUNCTION_LOG.unlink(missing_ok=True)
    return FUNCTION_LOG


@dataclass(frozen=True)
class Function:
    service: str
    logical_id: str
    module: str
    attribute: str
    environment: dict[str, str]
    is_api: bool


def _load(path: Path) -> dict[str, Any]:
    from cfnlint.decode import cfn_yaml

    return dict(cfn_yaml.load(str(path)))


def resources(service: str) -> dict[str, dict[str, Any]]:
    """The service's template resources by logical id."""
    return dict(_load(ROOT / "services" / service / "template.yaml").get("Resources") or {})


def tables(service: str) -> dict[str, dict[str, Any]]:
    """The service's DynamoDB tables by logical id: the properties CloudFormation would get."""
    template = _load(ROOT / "services" / service / "template.yaml")
    return {
        logical_id: dict(resource.get("Properties") or {})
        for logical_id, resource in (template.get("Resources") or {}).items()
        if resource.get("Type") == "AWS::DynamoDB::Table"
    }


def table_variables(service: str) -> dict[str, str]:
    """Environment variable -> logical id of the table it names (`!Ref SomeTable`)."""
    template = _load(ROOT / "services" / service / "template.yaml")
    known = tables(service)
    found: dict[str, str] = {}
    for resource in (template.get("Resources") or {}).values():
        props = resource.get("Properties") or {}
        variables = (props.get("Environment") or {}).get("Variables") or {}
        globals_env = ((template.get("Globals") or {}).get("Function") or {}).get("Environment")
        for name, value in {**((globals_env or {}).get("Variables") or {}), **variables}.items():
            ref = value.get("Ref") if isinstance(value, dict) else None
            if ref in known:
                found[name] = ref
    return found


def _value(name: str, value: Any, parameters: dict[str, Any]) -> str:
    """A parameter's default for a Ref to it; a placeholder for what only a deploy resolves."""
    if isinstance(value, str | int | float):
        return str(value)
    ref = value.get("Ref") if isinstance(value, dict) else None
    if ref in parameters and "Default" in parameters[ref]:
        return str(parameters[ref]["Default"])
    return f"bench-{name.lower().replace('_', '-')}"


def functions(service: str) -> list[Function]:
    template = _load(ROOT / "services" / service / "template.yaml")
    globals_ = (template.get("Globals") or {}).get("Function") or {}
    found = []
    for logical_id, resource in (template.get("Resources") or {}).items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        props = {**globals_, **(resource.get("Properties") or {})}
        module, _, attribute = props["Handler"].rpartition(".")
        variables = {
            **((globals_.get("Environment") or {}).get("Variables") or {}),
            **((resource.get("Properties", {}).get("Environment") or {}).get("Variables") or {}),
        }
        parameters = template.get("Parameters") or {}
        env = {k: _value(k, v, parameters) for k, v in variables.items()}
        events = (props.get("Events") or {}).values()
        is_api = any(e.get("Type") == "Api" for e in events)
        found.append(Function(service, logical_id, module, attribute, env, is_api))
    return sorted(found, key=lambda f: f.logical_id)


def services() -> list[str]:
    """Services that ship their own package (a pyproject beside the template)."""
    return sorted(
        p.parent.name
        for p in (ROOT / "services").glob("*/template.yaml")
        if (p.parent / "pyproject.toml").exists()
    )
