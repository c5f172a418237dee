"""Every function meters its usage (tenant_context.metering; README, "Usage and cost"): its
handler is wrapped in `metered` right under Powertools' `log_metrics` (which flushes the record
the usage rides on), with `api=True` when it serves an API's routes, and every service's AWS
clients come from a session whose DynamoDB and EventBridge calls feed the meter. The one
exception is the metering service's own consumer of usage records: its records would feed it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from saas_local.templates import load_template

ROOT = Path(__file__).resolve().parents[2]
NOT_METERED = {"metering_service.entrypoints.usage_records.handler"}


def _functions() -> list[tuple[str, str, bool]]:
    """(template's service, handler, serves an API) of every service function."""
    found = []
    for path in sorted(ROOT.glob("services/*/template.yaml")):
        template = load_template(path)
        for resource in template.get("Resources", {}).values():
            if resource.get("Type") != "AWS::Serverless::Function":
                continue
            props = resource.get("Properties", {})
            events = (props.get("Events") or {}).values()
            api = any(e.get("Type") == "Api" for e in events)
            found.append((path.parent.name, str(props["Handler"]), api))
    return found


def _module_file(handler: str) -> Path:
    relative = handler.rsplit(".", 1)[0].replace(".", "/") + ".py"
    (path,) = [*ROOT.glob(f"services/*/src/{relative}"), *ROOT.glob(f"tools/src/{relative}")]
    return path


def _decorators(path: Path, name: str) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    (function,) = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name]
    return [ast.unparse(d) for d in function.decorator_list]


@pytest.mark.parametrize(("service", "handler", "api"), _functions(), ids=lambda v: str(v))
def test_every_handler_is_metered_under_log_metrics(service: str, handler: str, api: bool) -> None:
    if handler in NOT_METERED:
        pytest.skip("its own records would feed it (and the policy leaves its log group out)")
    decorators = _decorators(_module_file(handler), handler.rsplit(".", 1)[1])
    expected = "metered(metrics, api=True)" if api else "metered(metrics)"
    assert expected in decorators, f"{handler}: {decorators}"
    assert decorators[decorators.index(expected) - 1] == "metrics.log_metrics"


@pytest.mark.parametrize(
    "path",
    [
        p
        for p in sorted(ROOT.glob("services/*/src/*/adapters/aws_clients.py"))
        if p.relative_to(ROOT).parts[1] != "metering"
    ],
    ids=lambda p: p.relative_to(ROOT).parts[1],
)
def test_every_services_aws_session_feeds_the_meter(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    assert "meter_session(" in source


def test_the_exception_is_left_out_of_the_subscription() -> None:
    template = load_template(ROOT / "services" / "metering" / "template.yaml")
    resources = template["Resources"]
    name = resources["UsageRecordsFunction"]["Properties"]["FunctionName"]
    criteria = resources["UsageSubscription"]["Properties"]["SelectionCriteria"]
    assert f'"/aws/lambda/{name}"' in criteria
