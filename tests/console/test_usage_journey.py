"""The usage journey (issue 17), in real Chromium against the local platform: a tenant's admin
makes a known mix of calls; the SystemAdmin reads the tenant's usage and estimated cost per day
on its page (the last 7, then 30 days); the tenant's admin reads its own on its Usage page.

Written against the metering contract (GET /tenants/{id}/usage, answered by the metering
service's API): it is skipped while no template of the platform has that route."""

from __future__ import annotations

import re
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from console_kit import FLOW_TIMEOUT_MS, Console, Visitor
from playwright.sync_api import expect

from saas_local import templates
from saas_local.platform import service_templates

sys.path.insert(0, str(Path(__file__).parents[1] / "e2e"))

from tenant_e2e_kit import onboard, tenant_status

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Usage-Passw0rd!"
CALLS = 5  # the tenant admin's calls: 4 GET /products and 1 POST /products


def _serves_usage() -> bool:
    """Whether a template of the platform has the usage route (the local platform serves the
    routes of the templates, and only those)."""
    usage = re.compile(r"^/tenants/\{[^}]+\}/usage$")
    return any(
        route.method == "GET" and usage.match(route.path)
        for path in service_templates(ROOT)
        for route in templates.routes(templates.load_template(path))
    )


pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not _serves_usage(),
        reason="no template serves GET /tenants/{id}/usage yet (the metering service of issue 17)",
    ),
]


def _sign_in(page: Any, console: Console, username: str, password: str) -> None:
    page.goto(console.url + "/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Email or username").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()


def _shown_requests(section: Any) -> int:
    figure = section.locator("dt", has_text=re.compile("^Requests$")).locator(
        "xpath=following-sibling::dd[1]"
    )
    expect(figure).to_have_text(re.compile(r"^[\d,]+$"))
    return int(figure.inner_text().replace(",", ""))


def test_usage_journey_system_admin_then_tenant_admin(
    page: Any, visit: Visitor, console: Console
) -> None:
    platform = console.platform
    root = platform.login(*platform.system_admin)
    suffix = uuid.uuid4().hex[:6]
    tenant_id = onboard(platform, root, f"owner-{suffix}@usage.test", name=f"Metered {suffix}")
    platform.wait_until(
        lambda: tenant_status(platform, root, tenant_id) == "ACTIVE", timeout=FLOW_TIMEOUT_MS / 1000
    )
    admin = f"usage-admin-{suffix}"
    platform.create_user(admin, PASSWORD, "TenantAdmin", tenant_id)
    token = platform.login(admin, PASSWORD)

    # Given a known mix of calls by the tenant
    for _ in range(CALLS - 1):
        assert platform.api("GET", "/products?limit=5", token=token).status == 200
    created = platform.api(
        "POST",
        "/products",
        token=token,
        json={"name": "Metered widget", "sku": f"MW-{suffix}", "price": "1.00", "stock": 1},
    )
    assert created.status == 201, created.text
    today = datetime.now(UTC).date()
    week = f"from={(today - timedelta(days=6)).isoformat()}&to={today.isoformat()}"

    def metered() -> dict[str, Any] | None:
        answer = platform.api("GET", f"/tenants/{tenant_id}/usage?{week}", token=root)
        body: dict[str, Any] = answer.json() if answer.status == 200 else {}
        return body if body.get("total", {}).get("requests", 0) >= CALLS else None

    usage = platform.wait_until(metered, timeout=FLOW_TIMEOUT_MS / 1000)

    # When the SystemAdmin opens the tenant's page
    _sign_in(page, console, *platform.system_admin)
    expect(page.get_by_role("table", name="Tenants")).to_be_visible()
    page.goto(f"{console.url}/tenants/{tenant_id}")
    section = page.get_by_role("region", name="Usage and estimated cost")
    expect(section.get_by_role("table", name="Cost by service")).to_be_visible(
        timeout=FLOW_TIMEOUT_MS
    )

    # Then its usage and cost per day are there: 7 days, the requests it made, the cost by service
    chart = section.locator("figure").first
    expect(chart.locator("g[data-bar]")).to_have_count(7)
    expect(chart.get_by_role("img")).to_have_attribute("aria-label", re.compile("by service"))
    assert _shown_requests(section) >= usage["total"]["requests"]
    for service in usage["total"]["cost"]["by_service"]:
        label = "shared (relays, provisioner, event log)" if service == "_shared" else service
        expect(section.get_by_role("table", name="Cost by service")).to_contain_text(label)
    visit("tenant usage, last 7 days")
    section.get_by_role("radio", name="Last 30 days").check()
    expect(chart.locator("g[data-bar]")).to_have_count(30)
    visit("tenant usage, last 30 days")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()

    # And the tenant's admin sees its own usage on its own page
    _sign_in(page, console, admin, PASSWORD)
    page.get_by_role("link", name="Usage").click()
    expect(page.get_by_role("heading", level=1, name="Usage")).to_be_visible()
    own = page.get_by_role("region", name="Usage and estimated cost")
    expect(own.get_by_role("table", name="Cost by service")).to_be_visible(timeout=FLOW_TIMEOUT_MS)
    assert _shown_requests(own) >= CALLS
    visit("own usage, tenant admin")
