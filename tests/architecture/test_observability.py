"""Every function's logs, traces and metrics are named by its template, never by its code.

A function's service name and metrics namespace come from the Powertools environment its template
sets (`POWERTOOLS_SERVICE_NAME`, `POWERTOOLS_METRICS_NAMESPACE`, in `Globals` or the function):
the namespace is `saas` everywhere, the one dashboards read, and the service name is the
service's own. No module passes a service name or namespace to Powertools' `Logger`, `Metrics`,
`EphemeralMetrics`, `Tracer` or `single_metric` in code, where it would override the template and
drift (it did: the product service's consumer and outbox poller sent their figures to `SaaS`).
See docs/conventions.md, "Observability".
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import cfn_yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted([*ROOT.glob("services/*/template.yaml"), *ROOT.glob("infra/*.yaml")])
FUNCTION_TYPES = ("AWS::Serverless::Function", "AWS::Lambda::Function")
NAMESPACE = "saas"

# Powertools' constructors and what their positional parameters are, in order, up to the last
# one that names something (each of these takes the service and/or namespace first).
NAMING_PARAMETERS = {
    "Logger": ("service",),
    "Tracer": ("service",),
    "Metrics": ("service", "namespace"),
    "EphemeralMetrics": ("service", "namespace"),
    "single_metric": ("name", "unit", "value", "resolution", "default_dimensions", "namespace"),
}
NAMING_KEYWORDS = frozenset({"service", "namespace"})


@dataclass(frozen=True)
class Function:
    template: Path
    logical_id: str
    handler: str
    variables: dict[str, Any]

    @property
    def name(self) -> str:
        return f"{self.template.parent.name}.{self.logical_id}"


def template_functions(template_path: Path) -> list[Function]:
    """Each function of the template with its environment (Globals, then its own on top)."""
    template = dict(cfn_yaml.load(str(template_path)))
    globals_ = (template.get("Globals") or {}).get("Function") or {}
    global_variables = (globals_.get("Environment") or {}).get("Variables") or {}
    found = []
    for logical_id, resource in (template.get("Resources") or {}).items():
        if resource.get("Type") not in FUNCTION_TYPES:
            continue
        props = resource.get("Properties") or {}
        own = (props.get("Environment") or {}).get("Variables") or {}
        serverless = resource["Type"] == "AWS::Serverless::Function"  # Globals apply to these
        inherited = global_variables if serverless else {}
        handler = props.get("Handler") or (globals_.get("Handler") if serverless else None)
        found.append(Function(template_path, logical_id, str(handler), {**inherited, **own}))
    return found


def environment_problems(function: Function, service: str) -> list[str]:
    """What is wrong with the function's Powertools environment (nothing: [])."""
    problems = []
    variables = function.variables
    if variables.get("POWERTOOLS_SERVICE_NAME") != service:
        problems.append(
            f"POWERTOOLS_SERVICE_NAME is {variables.get('POWERTOOLS_SERVICE_NAME')!r}, "
            f"not the service's name {service!r}"
        )
    if variables.get("POWERTOOLS_METRICS_NAMESPACE") != NAMESPACE:
        problems.append(
            f"POWERTOOLS_METRICS_NAMESPACE is {variables.get('POWERTOOLS_METRICS_NAMESPACE')!r}, "
            f"not {NAMESPACE!r}"
        )
    return problems


def _powertools_names(tree: ast.Module) -> tuple[dict[str, str], set[str]]:
    """Local names bound to the constructors above (alias -> constructor), and local names of
    modules of aws_lambda_powertools (for `aws_lambda_powertools.Logger(...)`)."""
    constructors: dict[str, str] = {}
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
            "aws_lambda_powertools"
        ):
            for alias in node.names:
                if alias.name in NAMING_PARAMETERS:
                    constructors[alias.asname or alias.name] = alias.name
                else:
                    modules.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("aws_lambda_powertools"):
                    modules.add(alias.asname or alias.name.split(".")[0])
    return constructors, modules


def _constructor(call: ast.Call, constructors: dict[str, str], modules: set[str]) -> str | None:
    func = call.func
    if isinstance(func, ast.Name):
        return constructors.get(func.id)
    if isinstance(func, ast.Attribute) and func.attr in NAMING_PARAMETERS:
        root: ast.expr = func.value
        while isinstance(root, ast.Attribute):
            root = root.value
        if isinstance(root, ast.Name) and root.id in modules:
            return func.attr
    return None


def names_in_code(source: str, filename: str = "<module>") -> list[str]:
    """Each place the source passes a service name or namespace to Powertools, as
    `file:line: Metrics(namespace='SaaS')`."""
    tree = ast.parse(source, filename)
    constructors, modules = _powertools_names(tree)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        kind = _constructor(node, constructors, modules)
        if kind is None:
            continue
        parameters = NAMING_PARAMETERS[kind]
        named = [
            f"{parameters[i]}={ast.unparse(arg)}"
            for i, arg in enumerate(node.args[: len(parameters)])
            if parameters[i] in NAMING_KEYWORDS
        ]
        named += [
            f"{kw.arg}={ast.unparse(kw.value)}" for kw in node.keywords if kw.arg in NAMING_KEYWORDS
        ]
        if named:
            found.append(f"{filename}:{node.lineno}: {kind}({', '.join(named)})")
    return found


def namespaces_in_code(source: str) -> list[str]:
    """The literal namespaces the source gives Powertools' metrics."""
    tree = ast.parse(source)
    constructors, modules = _powertools_names(tree)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        kind = _constructor(node, constructors, modules)
        if kind is None or "namespace" not in NAMING_PARAMETERS[kind]:
            continue
        position = NAMING_PARAMETERS[kind].index("namespace")
        values = [kw.value for kw in node.keywords if kw.arg == "namespace"]
        values += node.args[position : position + 1]
        found += [
            v.value for v in values if isinstance(v, ast.Constant) and isinstance(v.value, str)
        ]
    return found


FUNCTIONS = [f for t in TEMPLATES for f in template_functions(t)]


def _handler_file(function: Function) -> Path | None:
    module = function.handler.rpartition(".")[0].replace(".", "/")
    found = [*ROOT.glob(f"*/*/src/{module}.py"), *ROOT.glob(f"*/src/{module}.py")]
    return found[0] if found else None


def _modules() -> Iterator[Path]:
    """Every module of every service, and the handler module of each function whose code lives
    elsewhere (the event log's recorder, in tools/)."""
    seen = set()
    for path in sorted(ROOT.glob("services/*/src/**/*.py")):
        seen.add(path)
        yield path
    for function in FUNCTIONS:
        handler = _handler_file(function)
        if handler is not None and handler not in seen:
            seen.add(handler)
            yield handler


MODULES = list(_modules())


def test_the_templates_and_modules_are_found() -> None:
    services = {f.template.parent.name for f in FUNCTIONS}
    assert services >= {"order", "product", "tenant", "provisioner", "event-log"}
    assert all(_handler_file(f) is not None for f in FUNCTIONS), "a handler module is missing"
    assert len(MODULES) > 50


@pytest.mark.parametrize("function", FUNCTIONS, ids=lambda f: f.name)
def test_the_template_names_the_service_and_the_saas_namespace(function: Function) -> None:
    assert environment_problems(function, function.template.parent.name) == [], function.name


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_names_its_service_or_namespace_in_code(path: Path) -> None:
    source = path.read_text(encoding="utf-8")

    assert names_in_code(source, str(path.relative_to(ROOT))) == [], (
        "let the template's POWERTOOLS_SERVICE_NAME / POWERTOOLS_METRICS_NAMESPACE name it"
    )


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_sends_metrics_outside_the_saas_namespace(path: Path) -> None:
    assert set(namespaces_in_code(path.read_text(encoding="utf-8"))) <= {NAMESPACE}


# The checkers themselves, on planted examples: each must see what it is for.


def test_the_code_checker_finds_names_given_in_code(tmp_path: Path) -> None:
    planted = tmp_path / "bad.py"
    planted.write_text(
        "import aws_lambda_powertools as pt\n"
        "from aws_lambda_powertools import Logger, Tracer\n"
        "from aws_lambda_powertools import Metrics as M\n"
        "from aws_lambda_powertools.metrics import EphemeralMetrics, single_metric\n"
        "SERVICE = 'product'\n"
        "logger = Logger(service='product')\n"
        "tracer = Tracer('product')\n"
        "metrics = M(namespace='SaaS', service=SERVICE)\n"
        "more = EphemeralMetrics(None, 'SaaS')\n"
        "other = pt.metrics.Metrics(namespace='saas')\n"
        "with single_metric('n', 'Count', 1, namespace='SaaS'): pass\n"
    )

    found = names_in_code(planted.read_text(), "bad.py")

    assert [f.split(":")[1] for f in found] == ["6", "7", "8", "9", "10", "11"], found
    assert "bad.py:8: Metrics(namespace='SaaS', service=SERVICE)" in found
    assert namespaces_in_code(planted.read_text()).count("SaaS") == 3


def test_the_code_checker_lets_the_environment_name_everything(tmp_path: Path) -> None:
    planted = tmp_path / "good.py"
    planted.write_text(
        "import logging\n"
        "from aws_lambda_powertools import Logger, Metrics, Tracer\n"
        "logger = Logger(log_uncaught_exceptions=True)\n"
        "tracer = Tracer(patch_modules=['boto3'])\n"
        "metrics = Metrics()\n"
        "metrics.add_metric(name='Placed', unit='Count', value=1)\n"
        "log = logging.Logger('stdlib', 10)\n"  # not Powertools: its name is not a service
    )

    assert names_in_code(planted.read_text()) == []
    assert namespaces_in_code(planted.read_text()) == []


def test_the_template_checker_finds_a_wrong_or_missing_namespace(tmp_path: Path) -> None:
    planted = tmp_path / "shop" / "template.yaml"
    planted.parent.mkdir()
    planted.write_text(
        "Transform: AWS::Serverless-2016-10-31\n"
        "Globals:\n"
        "  Function:\n"
        "    Environment:\n"
        "      Variables: {POWERTOOLS_SERVICE_NAME: shop, POWERTOOLS_METRICS_NAMESPACE: saas}\n"
        "Resources:\n"
        "  Good:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties: {Handler: shop.entrypoints.api.handler}\n"
        "  Shouting:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties:\n"
        "      Handler: shop.entrypoints.consumer.handler\n"
        "      Environment: {Variables: {POWERTOOLS_METRICS_NAMESPACE: SaaS}}\n"
        "  Elsewhere:\n"
        "    Type: AWS::Lambda::Function\n"
        "    Properties:\n"
        "      Handler: shop.entrypoints.relay.handler\n"
        "      Environment: {Variables: {POWERTOOLS_SERVICE_NAME: order}}\n"
    )

    problems = {f.logical_id: environment_problems(f, "shop") for f in template_functions(planted)}

    assert problems["Good"] == []
    assert problems["Shouting"] == ["POWERTOOLS_METRICS_NAMESPACE is 'SaaS', not 'saas'"]
    assert len(problems["Elsewhere"]) == 2, problems  # another service's name, no namespace
