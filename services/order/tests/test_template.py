"""The SAM template and the code agree: every API route the template gives API Gateway is one
the resolver serves and the other way round, and each handler the template names exists."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import yaml

from order_service.entrypoints import api

TEMPLATE = Path(__file__).resolve().parents[1] / "template.yaml"


class _AnyTagLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short tags (!Ref, !GetAtt...) read as plain values."""


def _any_tag(loader, _suffix, node):
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_mapping(node)


_AnyTagLoader.add_multi_constructor("!", _any_tag)


def template():
    return yaml.load(TEMPLATE.read_text(), Loader=_AnyTagLoader)


def functions():
    return {
        name: resource["Properties"]
        for name, resource in template()["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }


def test_the_templates_routes_are_the_apis_routes():
    in_template = {
        (event["Properties"]["Method"].upper(), event["Properties"]["Path"])
        for props in functions().values()
        for event in (props.get("Events") or {}).values()
        if event["Type"] == "Api"
    }
    schema = json.loads(api.app.get_openapi_json_schema())
    in_code = {(m.upper(), p) for p, ops in schema["paths"].items() for m in ops}

    assert in_template == in_code


def test_every_handler_the_template_names_exists():
    for props in functions().values():
        module, _, attribute = props["Handler"].rpartition(".")
        assert callable(getattr(importlib.import_module(module), attribute))


def test_the_relay_receives_outbox_inserts_only():
    [outbox] = functions()["RelayFunction"]["Events"].values()
    [pattern] = [
        json.loads(f["Pattern"]) for f in outbox["Properties"]["FilterCriteria"]["Filters"]
    ]

    assert pattern["eventName"] == ["INSERT"]
    [prefix] = pattern["dynamodb"]["Keys"]["sk"]["S"]
    assert prefix == {"prefix": "OUTBOX#"}


def test_the_outbox_relay_handlers_are_named_after_it():
    handlers = {name: props["Handler"] for name, props in functions().items()}

    assert handlers["RelayFunction"] == "order_service.entrypoints.outbox_relay.handler"
    assert handlers["OutboxPollerFunction"] == "order_service.entrypoints.outbox_poller.handler"


def test_every_function_gets_its_powertools_names_from_the_environment():
    variables = template()["Globals"]["Function"]["Environment"]["Variables"]

    assert variables["POWERTOOLS_SERVICE_NAME"] == "order"
    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "saas"
    for name, props in functions().items():
        own = (props.get("Environment") or {}).get("Variables") or {}
        assert "POWERTOOLS_SERVICE_NAME" not in own, name
        assert "POWERTOOLS_METRICS_NAMESPACE" not in own, name
