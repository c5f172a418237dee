"""The console's five journeys of issue 14, in real Chromium against the local platform, plus a
keyboard-only journey. They run in this order and build on each other: journey 1 onboards the
tenant whose admin (2) and user (3) work in it; the keyboard journey onboards the second tenant
of journey 4; journey 5 suspends the first tenant."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from console_kit import FLOW_TIMEOUT_MS, Console, Visitor
from playwright.sync_api import expect

pytestmark = pytest.mark.slow

PASSWORD = "Console-Passw0rd!"
TENANT_REFUSED = "Access refused: your tenant is not active"
TENANT_CACHE_TTL_SECONDS = 30  # services/tenant/template.yaml, TenantCacheTtlSeconds


def invitation(console: Console, email: str) -> dict[str, Any]:
    """The invitation Cognito would have emailed, as the tenant service wrote it locally."""
    outbox = Path.cwd() / ".local" / "outbox"

    def found() -> dict[str, Any] | None:
        for path in sorted(outbox.glob("*.json")):
            body: dict[str, Any] = json.loads(path.read_text())
            if body["to"] == email:
                return body
        return None

    return console.platform.wait_until(found, timeout=60)


def sign_in(page: Any, console: Console, username: str, password: str) -> None:
    page.goto(console.url + "/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Email or username").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()


def set_new_password(page: Any, visit: Visitor, password: str) -> None:
    expect(page.get_by_role("heading", name="Set a new password")).to_be_visible()
    visit("set a new password")
    page.get_by_label("New password", exact=True).fill(password)
    page.get_by_label("Repeat the new password").fill(password)
    page.get_by_role("button", name="Set password and sign in").click()


def sign_out(page: Any) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def first_tenant(console: Console) -> dict[str, Any]:
    tenant = console.state.get("tenant")
    if tenant is None:
        pytest.fail("journey 1 did not onboard the tenant this journey works in")
    return tenant


def test_journey_1_system_admin_onboards_a_tenant_and_sees_it_active(
    page: Any, visit: Visitor, console: Console
) -> None:
    sign_in(page, console, *console.platform.system_admin)
    expect(page.get_by_role("table", name="Tenants")).to_be_visible()
    visit("tenants")

    page.get_by_role("link", name="Onboard a tenant").first.click()
    expect(page.get_by_role("heading", name="Onboard a tenant")).to_be_visible()
    # A problem the API finds is shown at its field.
    page.get_by_label("Name").fill("Acme")
    page.get_by_label("Admin email").fill("not-an-email")
    page.get_by_role("button", name="Onboard").click()
    expect(page.get_by_label("Admin email")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("alert")).to_contain_text("invalid request")
    visit("onboarding form with a problem at its field")

    suffix = uuid.uuid4().hex[:6]
    admin_email = f"admin-{suffix}@acme.test"
    page.get_by_label("Name").fill(f"Acme {suffix}")
    page.get_by_label("Tier").select_option("premium")
    page.get_by_label("Admin email").fill(admin_email)
    page.get_by_label("Config (optional)").fill("theme=blue")
    page.get_by_role("button", name="Onboard").click()

    expect(page.get_by_role("heading", name=f"Tenant Acme {suffix}")).to_be_visible()
    tenant_id = page.url.rsplit("/", 1)[1]
    status = page.locator(".details dd .badge")
    expect(status).to_have_text(re.compile("PROVISIONING|ACTIVE"))
    visit("tenant detail while provisioning")
    # No reload: the page follows the tenant until the provisioner has made it ACTIVE.
    expect(status).to_have_text("ACTIVE", timeout=FLOW_TIMEOUT_MS)
    expect(page.get_by_text("theme")).to_be_visible()
    visit("tenant detail active")

    page.get_by_role("link", name="Tenants", exact=True).click()
    row = page.locator(f'tr[data-tenant-id="{tenant_id}"]')
    expect(row).to_contain_text("premium")
    expect(row).to_contain_text("ACTIVE")
    page.get_by_label("Status").select_option("SUSPENDED")
    expect(row).to_have_count(0)
    page.get_by_label("Status").select_option("ACTIVE")
    expect(row).to_be_visible()
    visit("tenants filtered by status")
    sign_out(page)
    console.state["tenant"] = {"id": tenant_id, "name": f"Acme {suffix}", "admin": admin_email}


def test_journey_2_tenant_admin_sets_a_password_invites_a_user_and_creates_a_product(
    page: Any, visit: Visitor, console: Console
) -> None:
    tenant = first_tenant(console)
    invited = invitation(console, tenant["admin"])
    sign_in(page, console, invited["username"], invited["temporary_password"])
    set_new_password(page, visit, PASSWORD)
    expect(page.get_by_role("heading", name="Products")).to_be_visible()
    visit("products, empty")

    page.get_by_role("link", name="Users").click()
    expect(page.get_by_role("table", name="Users")).to_contain_text(tenant["admin"])
    user_email = f"user-{uuid.uuid4().hex[:6]}@acme.test"
    form = page.get_by_role("form", name="Invite a user")
    form.get_by_label("Email").fill(user_email)
    form.get_by_label("Role").select_option("TenantUser")
    form.get_by_role("button", name="Invite").click()
    expect(page.get_by_role("status")).to_contain_text(f"Invitation sent to {user_email}")
    users = page.get_by_role("table", name="Users")
    row = users.get_by_role("row").filter(has_text=user_email)
    expect(row).to_contain_text("Enabled")
    visit("users with the invited user")
    # The user administration routes: disable, enable, re-send the invitation (each confirmed).
    for action, answer, status in (
        ("Disable", "disabled", "Disabled"),
        ("Enable", "enabled", "Enabled"),
        ("Re-send invitation", "sent a new invitation", "Enabled"),
    ):
        page.get_by_role("button", name=f"{action} {user_email}").click()
        expect(page.get_by_role("alertdialog")).to_contain_text(user_email)
        page.get_by_role("button", name="Yes", exact=True).click()
        expect(page.get_by_role("status")).to_contain_text(f"{user_email}: {answer}.")
        expect(row).to_contain_text(status)
    visit("users after disable, enable and a new invitation")

    page.get_by_role("link", name="Products").click()
    form = page.get_by_role("form", name="New product")
    form.get_by_label("Name").fill("Blue widget")
    form.get_by_label("SKU").fill("WID-1")
    form.get_by_label("Price").fill("not a price")
    form.get_by_label("Stock").fill("3")
    form.get_by_role("button", name="Save product").click()
    expect(form.get_by_label("Price")).to_have_attribute("aria-invalid", "true")
    visit("product form with a problem at its field")
    form.get_by_label("Price").fill("9.99")
    form.get_by_role("button", name="Save product").click()
    row = page.get_by_role("row").filter(has_text="Blue widget")
    expect(row).to_contain_text("WID-1")
    expect(row.locator(".stock")).to_have_text("3")
    visit("products with the new product")

    page.get_by_role("link", name="Orders").click()
    expect(page.get_by_role("table", name="Orders")).to_contain_text("No order yet")
    visit("orders, empty")
    sign_out(page)
    console.state["user"] = user_email


def test_journey_3_tenant_user_orders_until_confirmed_then_rejected(
    page: Any, visit: Visitor, console: Console
) -> None:
    first_tenant(console)
    user_email = console.state.get("user")
    if user_email is None:
        pytest.fail("journey 2 did not invite the TenantUser")
    invited = invitation(console, user_email)
    sign_in(page, console, invited["username"], invited["temporary_password"])
    set_new_password(page, visit, PASSWORD)
    console.state["user_login"] = (invited["username"], PASSWORD)

    products = page.get_by_role("table", name="Products")
    row = products.get_by_role("row").filter(has_text="Blue widget")
    expect(row.locator(".stock")).to_have_text("3")
    # Read only: no create, edit or delete control for a TenantUser.
    expect(page.get_by_role("form", name="New product")).to_have_count(0)
    expect(
        page.get_by_role("button", name=re.compile("^(Edit|Delete|Save product)"))
    ).to_have_count(0)
    visit("products, read only")

    def order(quantity: int) -> None:
        page.get_by_role("link", name="Place an order").first.click()
        expect(page.get_by_role("heading", name="Place an order")).to_be_visible()
        select = page.get_by_label("Product (line 1)")
        expect(select.locator("option", has_text="Blue widget")).to_have_count(1)
        select.select_option(
            select.locator("option", has_text="Blue widget").get_attribute("value")
        )
        page.get_by_label("Quantity (line 1)").fill(str(quantity))
        page.get_by_role("button", name="Place order").click()
        expect(page.get_by_role("heading", name="Order")).to_be_visible()

    order(2)
    status = page.locator(".details dd .badge")
    visit("order placed")
    expect(status).to_have_text("CONFIRMED", timeout=FLOW_TIMEOUT_MS)
    visit("order confirmed")

    page.get_by_role("link", name="Products").click()
    expect(row.locator(".stock")).to_have_text("1", timeout=FLOW_TIMEOUT_MS)
    visit("products, stock after the order")

    order(5)
    expect(status).to_have_text("REJECTED", timeout=FLOW_TIMEOUT_MS)
    expect(page.locator(".details dd.reason")).not_to_be_empty()
    visit("order rejected with its reason")

    page.get_by_role("link", name="My orders").click()
    orders = page.get_by_role("table", name="Orders")
    expect(orders.get_by_role("row").nth(1)).to_contain_text("REJECTED")
    expect(orders.get_by_role("row").nth(2)).to_contain_text("CONFIRMED")
    visit("my orders, newest first")
    sign_out(page)


def test_keyboard_only_system_admin_onboards_the_second_tenant(
    page: Any, visit: Visitor, console: Console
) -> None:
    """Sign-in, navigation and the onboarding form with the keyboard alone (no click)."""
    keyboard = page.keyboard
    page.goto(console.url + "/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_focused()

    def tab_to(locator: Any, limit: int = 25) -> None:
        for _ in range(limit):
            keyboard.press("Tab")
            if locator.evaluate("e => e === document.activeElement"):
                return
        raise AssertionError(f"Tab never reached {locator}")

    username, password = console.platform.system_admin
    tab_to(page.get_by_label("Email or username"))
    keyboard.type(username)
    keyboard.press("Tab")
    keyboard.type(password)
    keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Tenants")).to_be_focused()
    visit("tenants, keyboard")

    tab_to(page.get_by_role("navigation", name="Main").get_by_role("link", name="Onboard a tenant"))
    keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Onboard a tenant")).to_be_focused()
    suffix = uuid.uuid4().hex[:6]
    admin_email = f"admin-{suffix}@globex.test"
    tab_to(page.get_by_label("Name"))
    keyboard.type(f"Globex {suffix}")
    keyboard.press("Tab")  # tier: basic stays
    keyboard.press("Tab")  # region group
    keyboard.press("ArrowDown")
    expect(page.get_by_label("Region group")).to_have_value("eu")
    keyboard.press("ArrowUp")
    keyboard.press("Tab")
    keyboard.type(admin_email)
    keyboard.press("Enter")
    expect(page.get_by_role("heading", name=f"Tenant Globex {suffix}")).to_be_focused()
    expect(page.locator(".details dd .badge")).to_have_text("ACTIVE", timeout=FLOW_TIMEOUT_MS)
    visit("second tenant active, keyboard")

    tab_to(page.get_by_role("button", name="Sign out"), limit=40)
    keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    console.state["second_admin"] = admin_email


def test_journey_4_second_tenant_admin_sees_nothing_of_the_first_tenant(
    page: Any, visit: Visitor, console: Console
) -> None:
    first_tenant(console)
    admin_email = console.state.get("second_admin")
    if admin_email is None:
        pytest.fail("the keyboard journey did not onboard the second tenant")
    invited = invitation(console, admin_email)
    sign_in(page, console, invited["username"], invited["temporary_password"])
    set_new_password(page, visit, PASSWORD)
    products = page.get_by_role("table", name="Products")
    expect(products).to_contain_text("No product yet")
    expect(products).not_to_contain_text("Blue widget")
    visit("second tenant's products")
    page.get_by_role("link", name="Orders").click()
    expect(page.get_by_role("table", name="Orders")).to_contain_text("No order yet")
    visit("second tenant's orders")
    page.get_by_role("link", name="Users").click()
    users = page.get_by_role("table", name="Users")
    expect(users).to_contain_text(admin_email)
    expect(users).not_to_contain_text("acme.test")
    visit("second tenant's users")
    sign_out(page)


def test_journey_5_suspended_tenant_user_is_refused_with_a_clear_message(
    page: Any, visit: Visitor, console: Console
) -> None:
    tenant = first_tenant(console)
    login = console.state.get("user_login")
    if login is None:
        pytest.fail("journey 3 did not set the TenantUser's password")
    sign_in(page, console, *console.platform.system_admin)
    page.get_by_role("link", name=tenant["name"]).click()
    expect(page.get_by_role("heading", name=f"Tenant {tenant['name']}")).to_be_visible()
    page.get_by_role("button", name="Suspend").click()
    expect(page.get_by_role("alertdialog")).to_contain_text(f"Suspend {tenant['name']}?")
    visit("suspend confirmation")
    page.get_by_role("button", name="Yes, suspend").click()
    expect(page.locator(".details dd .badge")).to_have_text("SUSPENDED")
    visit("tenant suspended")
    sign_out(page)

    # The authorizer trusts a tenant's cached standing for TenantCacheTtlSeconds (30 s) and API
    # Gateway keeps its answer for a token: a user who signs in after that is refused at once.
    page.wait_for_timeout((TENANT_CACHE_TTL_SECONDS + 5) * 1000)
    sign_in(page, console, *login)
    expect(page.get_by_role("heading", name="Products")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text(TENANT_REFUSED)
    expect(page.get_by_role("table", name="Products")).to_have_count(0)
    visit("suspended tenant's user refused")
