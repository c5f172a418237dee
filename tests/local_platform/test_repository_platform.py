"""The `local_platform` fixture: the repository's own templates, as `make run` starts them."""

from __future__ import annotations

import json
import re

import pytest

from saas_local import templates
from saas_local.platform import service_templates

from .conftest import ROOT

pytestmark = pytest.mark.slow


def _declared_routes():
    found = set()
    for path in service_templates(ROOT):
        for route in templates.routes(templates.load_template(path)):
            found.add((route.method, route.path, route.authorizer is not None))
    return found


def test_every_route_of_the_service_templates_is_served(local_platform):
    declared = _declared_routes()
    if not declared:
        pytest.skip("no service template declares an Api event yet")

    for method, path, guarded in sorted(declared):
        concrete = re.sub(r"\{[^}]+\}", "x", path)
        response = local_platform.api(method if method != "ANY" else "GET", concrete)
        # Known to the gateway (not 404 / 403 "Missing Authentication Token"), and guarded
        # routes refuse a request without a token before the handler runs.
        assert response.status != 404, (method, path)
        assert response.text != '{"message": "Missing Authentication Token"}', (method, path)
        if guarded:
            assert response.status == 401, (method, path)


def test_the_system_admin_can_log_in(local_platform):
    username, password = local_platform.system_admin

    token = local_platform.login(username, password)

    assert token.count(".") == 2


def test_each_service_stack_publishes_its_route_permissions_for_the_authorizer(local_platform):
    # Given the services deployed in every region, each publishing its own file in SSM
    for region in local_platform.platform.config.regions:
        ssm = local_platform.client("ssm", region)
        published = {
            p["Name"]: json.loads(p["Value"])
            for p in ssm.get_parameters_by_path(Path="/saas/permissions/")["Parameters"]
        }
        for path in ROOT.glob("services/*/src/*/entrypoints/permissions.json"):
            service = path.parents[3].name
            assert published[f"/saas/permissions/{service}"] == json.loads(path.read_text())

    # Then the authorizer builds its policy from them: the system admin lists tenants, and is
    # refused a tenant's orders (a route of another service's file)
    token = local_platform.login(*local_platform.system_admin)
    assert local_platform.api("GET", "/tenants", token=token).status == 200
    assert local_platform.api("GET", "/orders", token=token).status == 403
