"""Each service's routes and its own permission file agree: every route of its template has an
entry in `src/<package>/entrypoints/permissions.json`, and every entry has a route. A new route
nobody may call (or a stale grant) fails here, not in production. The file is the service's own:
no service's permissions live in another service's folder.

Routes are read from each `services/*/template.yaml`'s `Api` events, the same source the local
gateway and API Gateway use; path parameter names do not matter ({id} == {order_id}).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tenant_context.permissions import GRANTABLE_ROLES, RoutePermissions, route_key

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted(ROOT.glob("services/*/template.yaml"))
PERMISSION_FILE = "entrypoints/permissions.json"


class _CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short tags (!Ref, !GetAtt...) read as plain values."""


def _any_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_mapping(node)  # type: ignore[arg-type]


_CfnLoader.add_multi_constructor("!", _any_tag)


def _template(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.load(path.read_text(), Loader=_CfnLoader)
    return loaded


def template_routes(path: Path) -> set[tuple[str, str]]:
    found = set()
    for resource in (_template(path).get("Resources") or {}).values():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        for event in ((resource.get("Properties") or {}).get("Events") or {}).values():
            if event.get("Type") == "Api":
                props = event["Properties"]
                found.add(route_key(props["Method"], props["Path"]))
    return found


def permission_files(service_dir: Path) -> list[Path]:
    return sorted(service_dir.glob(f"src/*/{PERMISSION_FILE}"))


def declared(service_dir: Path) -> set[tuple[str, str]]:
    return {r.key for f in permission_files(service_dir) for r in RoutePermissions.load(f).routes}


# (service, its template) for every service whose template serves routes
SERVICES_WITH_ROUTES = [
    pytest.param(path.parent, path, id=path.parent.name)
    for path in TEMPLATES
    if template_routes(path)
]


def test_the_templates_declare_routes() -> None:
    assert any(service.values[0].name == "tenant" for service in SERVICES_WITH_ROUTES)


@pytest.mark.parametrize(("service", "template"), SERVICES_WITH_ROUTES)
def test_a_service_with_routes_has_one_permission_file_beside_its_api(
    service: Path, template: Path
) -> None:
    [found] = permission_files(service)

    assert found.with_name("api.py").is_file()
    assert RoutePermissions.load(found).service == service.name


@pytest.mark.parametrize(("service", "template"), SERVICES_WITH_ROUTES)
def test_every_route_has_a_permission_entry(service: Path, template: Path) -> None:
    missing = sorted(f"{m} {p}" for m, p in template_routes(template) - declared(service))

    assert missing == [], (
        f"routes no role may call (add them to {service.name}'s {PERMISSION_FILE})"
    )


@pytest.mark.parametrize(("service", "template"), SERVICES_WITH_ROUTES)
def test_every_permission_entry_has_a_route(service: Path, template: Path) -> None:
    stale = sorted(f"{m} {p}" for m, p in declared(service) - template_routes(template))

    assert stale == [], f"{service.name}'s permission entries for routes its template lacks"


@pytest.mark.parametrize(("service", "template"), SERVICES_WITH_ROUTES)
def test_every_entry_grants_known_roles_only(service: Path, template: Path) -> None:
    for path in permission_files(service):
        document = json.loads(path.read_text())
        for entry in document["routes"]:
            assert entry["roles"], entry
            assert set(entry["roles"]) <= GRANTABLE_ROLES, entry


@pytest.mark.parametrize(("service", "template"), SERVICES_WITH_ROUTES)
def test_the_stack_publishes_the_file_for_the_authorizer(service: Path, template: Path) -> None:
    # The template takes the file as a parameter (filled by the deploy tooling) and publishes
    # it at /saas/permissions/<service>, where the authorizer reads every service's
    resources = _template(template)["Resources"]
    published = [
        r["Properties"]
        for r in resources.values()
        if r.get("Type") == "AWS::SSM::Parameter"
        and r["Properties"].get("Name") == f"/saas/permissions/{service.name}"
    ]

    assert [p["Value"] for p in published] == ["RoutePermissions"]
    assert "Default" not in _template(template)["Parameters"]["RoutePermissions"]


def test_no_service_folder_holds_another_services_permissions() -> None:
    for template in TEMPLATES:
        for path in permission_files(template.parent):
            assert RoutePermissions.load(path).service == template.parent.name, path


def test_a_route_missing_from_a_file_is_caught(tmp_path: Path) -> None:
    # Given a service whose template has a route its permission file does not know
    service = tmp_path / "secrets"
    (service / "src/secrets_service/entrypoints").mkdir(parents=True)
    (service / "template.yaml").write_text(
        "Resources:\n"
        "  Fn:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties:\n"
        "      Events:\n"
        "        Known:\n"
        "          Type: Api\n"
        "          Properties: {RestApiId: !Ref Api, Path: '/secrets', Method: get}\n"
        "        Secret:\n"
        "          Type: Api\n"
        "          Properties: {RestApiId: !Ref Api, Path: '/secrets/{id}', Method: get}\n"
    )
    (service / f"src/secrets_service/{PERMISSION_FILE}").write_text(
        json.dumps(
            {
                "service": "secrets",
                "routes": [{"method": "GET", "path": "/secrets", "roles": ["TenantAdmin"]}],
            }
        )
    )

    # Then the route is read from it and found undeclared in that service's own file
    routes = template_routes(service / "template.yaml")
    assert routes == {("GET", "/secrets"), ("GET", "/secrets/{}")}
    assert routes - declared(service) == {("GET", "/secrets/{}")}
