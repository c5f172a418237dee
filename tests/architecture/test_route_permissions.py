"""Every route of every service has an entry in the authorizer's permission table, and every
entry has a route: a new route nobody may call (or a stale grant) fails here, not in production.

Routes are read from each `services/*/template.yaml`'s `Api` events, the same source the local
gateway and API Gateway use; path parameter names do not matter ({id} == {order_id}).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tenant_service.domain.permissions import PERMISSIONS, ROLES, route_key

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted(ROOT.glob("services/*/template.yaml"))


class _CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short tags (!Ref, !GetAtt...) read as plain values."""


def _any_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_mapping(node)  # type: ignore[arg-type]


_CfnLoader.add_multi_constructor("!", _any_tag)


def template_routes(path: Path) -> set[tuple[str, str]]:
    template = yaml.load(path.read_text(), Loader=_CfnLoader)
    found = set()
    for resource in (template.get("Resources") or {}).values():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        for event in ((resource.get("Properties") or {}).get("Events") or {}).values():
            if event.get("Type") == "Api":
                props = event["Properties"]
                found.add(route_key(props["Method"], props["Path"]))
    return found


def all_routes() -> dict[tuple[str, str], str]:
    return {route: path.parent.name for path in TEMPLATES for route in template_routes(path)}


def test_the_templates_declare_routes() -> None:
    assert any(service == "tenant" for service in all_routes().values())


def test_every_route_has_a_permission_entry() -> None:
    declared = {route_key(p.method, p.path) for p in PERMISSIONS}

    missing = sorted(
        f"{service}: {method} {path}"
        for (method, path), service in all_routes().items()
        if (method, path) not in declared
    )

    assert missing == [], "routes no role may call (add them to the permission table)"


def test_every_permission_entry_has_a_route() -> None:
    routes = all_routes()

    stale = sorted(
        f"{p.method} {p.path}" for p in PERMISSIONS if route_key(p.method, p.path) not in routes
    )

    assert stale == [], "permission entries for routes no template declares"


@pytest.mark.parametrize("entry", PERMISSIONS, ids=lambda p: f"{p.method} {p.path}")
def test_every_entry_grants_known_roles_only(entry: Any) -> None:
    assert entry.roles
    assert entry.roles <= set(ROLES)


def test_a_route_missing_from_the_table_is_caught(tmp_path: Path) -> None:
    # Given a template with a route the table does not know
    template = tmp_path / "template.yaml"
    template.write_text(
        "Resources:\n"
        "  Fn:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties:\n"
        "      Events:\n"
        "        Secret:\n"
        "          Type: Api\n"
        "          Properties: {RestApiId: !Ref Api, Path: '/secrets/{id}', Method: get}\n"
    )
    declared = {route_key(p.method, p.path) for p in PERMISSIONS}

    # Then the route is read from it and found undeclared
    assert template_routes(template) == {("GET", "/secrets/{}")}
    assert not template_routes(template) <= declared
