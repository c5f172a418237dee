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


def _origin(local_platform):
    """The origin the APIs allow: the console's URL, or any ("*") when it is not served."""
    allowed = local_platform.platform.cors_origin
    return allowed, (allowed if allowed != "*" else "http://console.test")


def test_every_api_answers_the_consoles_preflight_and_puts_cors_on_its_errors(local_platform):
    allowed, origin = _origin(local_platform)
    token = local_platform.login(*local_platform.system_admin)

    for method, path, guarded in sorted(_declared_routes()):
        concrete = re.sub(r"\{[^}]+\}", "x", path)
        preflight = local_platform.api(
            "OPTIONS",
            concrete,
            headers={"Origin": origin, "Access-Control-Request-Method": method},
        )
        assert preflight.status == 200, (method, path, preflight.text)
        assert preflight.headers["Access-Control-Allow-Origin"] == allowed, (method, path)
        assert method in preflight.headers["Access-Control-Allow-Methods"].split(","), path
        requested = set(preflight.headers["Access-Control-Allow-Headers"].split(","))
        assert {"Authorization", "Content-Type", "Idempotency-Key", "X-Correlation-Id"} <= requested
        if guarded:  # API Gateway's own 401 (a gateway response)
            refused = local_platform.api(method, concrete, headers={"Origin": origin})
            assert refused.status == 401, (method, path)
            assert refused.headers["Access-Control-Allow-Origin"] == allowed, (method, path)

    # The functions' own answers, a success and an error, carry it too
    listed = local_platform.api("GET", "/tenants", token=token, headers={"Origin": origin})
    missing = local_platform.api("GET", "/tenants/nope", token=token, headers={"Origin": origin})
    assert (listed.status, missing.status) == (200, 404)
    assert listed.headers["Access-Control-Allow-Origin"] == allowed
    assert missing.headers["Access-Control-Allow-Origin"] == allowed


def _invitation(local_platform, email):
    from pathlib import Path

    outbox = Path.cwd() / ".local" / "outbox"

    def found():
        for path in sorted(outbox.glob("*.json")):
            body = json.loads(path.read_text())
            if body["to"] == email:
                return body
        return None

    return local_platform.wait_until(found, timeout=60)


def test_a_tenant_admin_disables_enables_and_removes_a_user(local_platform):
    import uuid

    root = local_platform.login(*local_platform.system_admin)
    suffix = uuid.uuid4().hex[:8]
    admin_email = f"boss-{suffix}@users.test"
    onboarded = local_platform.api(
        "POST",
        "/tenants",
        token=root,
        json={"name": "Users", "tier": "basic", "region_group": "us", "admin_email": admin_email},
    )
    assert onboarded.status == 202, onboarded.text
    tenant_id = onboarded.json()["id"]
    local_platform.wait_until(
        lambda: (
            local_platform.api("GET", f"/tenants/{tenant_id}", token=root).json()["status"]
            == "ACTIVE"
        ),
        timeout=120,
    )
    invitation = _invitation(local_platform, admin_email)
    admin = local_platform.login(
        invitation["username"], invitation["temporary_password"], new_password="Admin-Passw0rd"
    )
    member_email = f"member-{suffix}@users.test"
    invited = local_platform.api(
        "POST", "/users", token=admin, json={"email": member_email, "role": "TenantUser"}
    )
    assert invited.status == 201, invited.text
    username = invited.json()["username"]
    first = _invitation(local_platform, member_email)

    # A re-sent invitation has a new temporary password; the old one no longer works
    resent = local_platform.api("POST", f"/users/{username}/resend-invitation", token=admin)
    assert resent.status == 200, resent.text
    second = local_platform.wait_until(
        lambda: (
            (i := _invitation(local_platform, member_email))["temporary_password"]
            != first["temporary_password"]
            and i
        )
    )
    local_platform.login(username, second["temporary_password"], new_password="Member-Passw0rd")

    # Disabled: no login; enabled: logs in again
    disabled = local_platform.api("POST", f"/users/{username}/disable", token=admin)
    assert (disabled.status, disabled.json()["enabled"]) == (200, False)
    cognito = local_platform.client("cognito-idp")
    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        local_platform.login(username, "Member-Passw0rd")
    enabled = local_platform.api("POST", f"/users/{username}/enable", token=admin)
    assert (enabled.status, enabled.json()["enabled"]) == (200, True)
    assert local_platform.login(username, "Member-Passw0rd").count(".") == 2

    # The admin cannot remove itself; removing the member deletes it
    itself = local_platform.api("DELETE", f"/users/{invitation['username']}", token=admin)
    assert itself.status == 409, itself.text
    assert "itself" in itself.json()["message"]
    removed = local_platform.api("DELETE", f"/users/{username}", token=admin)
    assert removed.status == 204, removed.text
    with pytest.raises(
        (cognito.exceptions.NotAuthorizedException, cognito.exceptions.UserNotFoundException)
    ):
        local_platform.login(username, "Member-Passw0rd")
    listed = local_platform.api("GET", "/users", token=admin).json()["items"]
    assert username not in [u["username"] for u in listed]
