import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { App } from "./App";
import { SESSION_ENDED } from "./api";
import { saveSession, sessionOf } from "./session";
import { CONFIG, fakeFetch, tokensFor, type Route } from "./testing";

function start(routes: Record<string, Route>, path = "/") {
  window.history.replaceState(null, "", path);
  const fake = fakeFetch(routes);
  render(<App config={CONFIG} fetcher={fake.fetch} />);
  return fake;
}

const admin = tokensFor("SystemAdmin");
const tenants = { items: [{ id: "t1", name: "Acme", tier: "basic", region_group: "us", status: "ACTIVE", config: {} }], next_token: null };
const NO_USAGE = {
  ...Object.fromEntries(
    ["requests", "errors_4xx", "errors_5xx", "read_capacity_units", "write_capacity_units", "lambda_billed_ms", "lambda_gb_seconds", "events_published", "fauna_compute_ops", "fauna_read_ops", "fauna_write_ops"].map((k) => [k, 0]),
  ),
  cost: { total: 0, by_service: {}, by_item: {} },
};

describe("sign-in", () => {
  it("sets a new password on first sign-in, then opens the role's start page", async () => {
    const { calls } = start({
      InitiateAuth: () => ({ body: { ChallengeName: "NEW_PASSWORD_REQUIRED", Session: "s-1", ChallengeParameters: { USER_ID_FOR_SRP: "uuid-1" } } }),
      RespondToAuthChallenge: () => ({ body: { AuthenticationResult: { IdToken: admin.idToken, AccessToken: admin.accessToken, RefreshToken: "r" } } }),
      "GET /tenants": () => ({ body: tenants }),
    });
    const user = userEvent.setup();
    await user.type(screen.getByLabelText("Email or username"), "admin@x.test");
    await user.type(screen.getByLabelText("Password"), "Temp-1!");
    await user.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByRole("heading", { name: "Set a new password" })).toHaveFocus();
    await user.type(screen.getByLabelText("New password"), "New-Passw0rd!");
    await user.type(screen.getByLabelText("Repeat the new password"), "New-Passw0rd!");
    await user.click(screen.getByRole("button", { name: "Set password and sign in" }));
    const table = await screen.findByRole("table", { name: "Tenants" });
    expect(within(table).getByRole("link", { name: "Acme" })).toBeInTheDocument();
    const respond = calls.find((c) => c.headers["X-Amz-Target"]?.endsWith("RespondToAuthChallenge"));
    expect(respond?.body).toMatchObject({ Session: "s-1", ChallengeResponses: { USERNAME: "uuid-1", NEW_PASSWORD: "New-Passw0rd!" } });
    expect(window.location.pathname).toBe("/tenants");
    expect(calls.find((c) => c.url.startsWith(CONFIG.apiUrl))?.headers.Authorization).toBe(`Bearer ${admin.idToken}`);
  });

  it("refuses two different new passwords before asking Cognito", async () => {
    start({ InitiateAuth: () => ({ body: { ChallengeName: "NEW_PASSWORD_REQUIRED", Session: "s-1" } }) });
    const user = userEvent.setup();
    await user.type(screen.getByLabelText("Email or username"), "u");
    await user.type(screen.getByLabelText("Password"), "p");
    await user.click(screen.getByRole("button", { name: "Sign in" }));
    await user.type(await screen.findByLabelText("New password"), "One-Passw0rd!");
    await user.type(screen.getByLabelText("Repeat the new password"), "Two-Passw0rd!");
    await user.click(screen.getByRole("button", { name: "Set password and sign in" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("The two new passwords differ.");
  });

  it("shows a wrong password in words", async () => {
    start({ InitiateAuth: () => ({ status: 400, body: { __type: "NotAuthorizedException", message: "Incorrect username or password." } }) });
    const user = userEvent.setup();
    await user.type(screen.getByLabelText("Email or username"), "u");
    await user.type(screen.getByLabelText("Password"), "bad");
    await user.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Incorrect username or password.");
  });

  it("keeps the session over a reload (sessionStorage)", async () => {
    saveSession(sessionOf(admin));
    start({ "GET /tenants": () => ({ body: tenants }) }, "/tenants");
    expect(await screen.findByRole("table", { name: "Tenants" })).toBeInTheDocument();
  });

  it("goes back to sign-in with a message on a 401", async () => {
    saveSession(sessionOf(admin));
    start({ "GET /tenants": () => ({ status: 401, body: { message: "Unauthorized" } }) }, "/tenants");
    await waitFor(() => expect(window.location.pathname).toBe("/sign-in"));
    // Checked together once the page has settled: it may render twice on the way (the session's
    // end, then the redirect), and an element found in the first render is gone after the second.
    await waitFor(() => {
      expect(screen.getByRole("heading", { name: "Sign in" })).toBeInTheDocument();
      expect(screen.getByRole("status")).toHaveTextContent(SESSION_ENDED);
    });
    expect(sessionStorage.length).toBe(0);
  });

  it("refreshes an ID token about to expire before calling the API", async () => {
    saveSession(sessionOf(tokensFor("SystemAdmin", {}, 10)));
    const fresh = tokensFor("SystemAdmin", { fresh: true });
    const { calls } = start(
      {
        InitiateAuth: () => ({ body: { AuthenticationResult: { IdToken: fresh.idToken, AccessToken: fresh.accessToken } } }),
        "GET /tenants": () => ({ body: tenants }),
      },
      "/tenants",
    );
    await screen.findByRole("table", { name: "Tenants" });
    expect(calls[0].body).toMatchObject({ AuthFlow: "REFRESH_TOKEN_AUTH" });
    expect(calls[1].headers.Authorization).toBe(`Bearer ${fresh.idToken}`);
  });

  it("signs out: revokes the refresh token, and the session is gone even when revoking fails", async () => {
    saveSession(sessionOf(admin));
    const { calls } = start({ "GET /tenants": () => ({ body: tenants }), RevokeToken: () => ({ status: 400, body: { __type: "UnsupportedOperationException" } }) }, "/tenants");
    await screen.findByRole("table", { name: "Tenants" });
    await userEvent.setup().click(screen.getByRole("button", { name: "Sign out" }));
    expect(await screen.findByRole("heading", { name: "Sign in" })).toBeInTheDocument();
    expect(screen.getByRole("status")).toHaveTextContent("You are signed out.");
    expect(calls.some((c) => c.headers["X-Amz-Target"]?.endsWith("RevokeToken") && (c.body as { Token: string }).Token === "refresh-1")).toBe(true);
    expect(sessionStorage.length).toBe(0);
  });
});

describe("pages", () => {
  it("shows each onboarding problem at its field", async () => {
    saveSession(sessionOf(admin));
    start(
      {
        "POST /tenants": () => ({
          status: 422,
          body: { message: "invalid request: admin_email", detail: [{ loc: ["body", "admin_email"], msg: "String should match pattern", type: "x" }] },
        }),
      },
      "/tenants/new",
    );
    const user = userEvent.setup();
    await user.type(await screen.findByLabelText("Name"), "Acme");
    await user.type(screen.getByLabelText("Admin email"), "nope");
    await user.click(screen.getByRole("button", { name: "Onboard" }));
    const email = screen.getByLabelText("Admin email");
    await waitFor(() => expect(email).toHaveAttribute("aria-invalid", "true"));
    expect(email).toHaveAccessibleDescription(/String should match pattern/);
    expect(screen.getByRole("alert")).toHaveTextContent("invalid request: admin_email");
  });

  it("asks before suspending a tenant, and says why it could not", async () => {
    saveSession(sessionOf(admin));
    const { calls } = start(
      {
        "GET /tenants/t1": () => ({ body: tenants.items[0] }),
        // The tenant's page shows its usage once the platform meters it (the metering contract).
        "GET /tenants/t1/usage": () => ({ status: 200, body: { tenant_id: "t1", from: "", to: "", currency: "USD", days: [], total: NO_USAGE } }),
        "POST /tenants/t1/suspend": () => ({ status: 409, body: { message: "tenant t1 changed meanwhile" } }),
      },
      "/tenants/t1",
    );
    const user = userEvent.setup();
    await user.click(await screen.findByRole("button", { name: "Suspend" }));
    expect(screen.getByRole("alertdialog")).toHaveTextContent("Suspend Acme?");
    expect(calls.some((c) => c.method === "POST")).toBe(false);
    await user.click(screen.getByRole("button", { name: "Yes, suspend" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("tenant t1 changed meanwhile");
  });

  it("shows a TenantUser the products with no create, edit or delete control", async () => {
    saveSession(sessionOf(tokensFor("TenantUser", { "custom:tenant_id": "t1" })));
    start({ "GET /products": () => ({ body: { items: [{ id: "p1", name: "Widget", sku: "W", price: "1.00", stock: 3 }], next_token: "n" } }) }, "/products");
    const table = await screen.findByRole("table", { name: "Products" });
    expect(within(table).getByText("Widget")).toBeInTheDocument();
    expect(screen.queryByRole("form", { name: "New product" })).toBeNull();
    expect(screen.queryByRole("button", { name: /Edit|Delete/ })).toBeNull();
    expect(screen.getByRole("button", { name: "Next page" })).toBeEnabled();
  });

  it("gives a TenantAdmin the product form, whose problems are shown at their fields", async () => {
    saveSession(sessionOf(tokensFor("TenantAdmin", { "custom:tenant_id": "t1" })));
    start(
      {
        "GET /products": () => ({ body: { items: [] } }),
        "POST /products": () => ({ status: 422, body: { message: "invalid request: price", detail: [{ loc: ["body", "price"], msg: "bad price", type: "x" }] } }),
      },
      "/products",
    );
    const form = await screen.findByRole("form", { name: "New product" });
    const user = userEvent.setup();
    await user.type(within(form).getByLabelText("Name"), "W");
    await user.type(within(form).getByLabelText("SKU"), "S");
    await user.type(within(form).getByLabelText("Price"), "x");
    await user.click(within(form).getByRole("button", { name: "Save product" }));
    await waitFor(() => expect(within(form).getByLabelText("Price")).toHaveAttribute("aria-invalid", "true"));
    expect(within(form).getByLabelText("Price")).toHaveAccessibleDescription(/bad price/);
  });

  it("places an order of several lines", async () => {
    saveSession(sessionOf(tokensFor("TenantUser", { "custom:tenant_id": "t1" })));
    const items = [
      { id: "p1", name: "Widget", sku: "W", price: "1.00", stock: 3 },
      { id: "p2", name: "Gadget", sku: "G", price: "2.00", stock: 5 },
    ];
    const { calls } = start(
      {
        "GET /products": () => ({ body: { items } }),
        "POST /orders": () => ({ status: 202, body: { id: "o1", status: "PENDING" } }),
        "GET /orders/o1": () => ({ body: { id: "o1", status: "CONFIRMED", lines: [] } }),
      },
      "/orders/new",
    );
    const user = userEvent.setup();
    await screen.findByRole("option", { name: "Widget (3 in stock)" });
    await user.selectOptions(screen.getByLabelText("Product (line 1)"), "p1");
    await user.clear(screen.getByLabelText("Quantity (line 1)"));
    await user.type(screen.getByLabelText("Quantity (line 1)"), "2");
    await user.click(screen.getByRole("button", { name: "Add a line" }));
    await user.selectOptions(screen.getByLabelText("Product (line 2)"), "p2");
    await user.click(screen.getByRole("button", { name: "Place order" }));
    expect(await screen.findByText("CONFIRMED")).toBeInTheDocument();
    const order = calls.find((c) => c.method === "POST");
    expect(order?.body).toEqual({ lines: [{ product_id: "p1", quantity: 2 }, { product_id: "p2", quantity: 1 }] });
    expect(order?.headers["Idempotency-Key"]).toBeTruthy();
  });

  it("shows a network failure in words, never a blank page", async () => {
    saveSession(sessionOf(tokensFor("TenantAdmin", { "custom:tenant_id": "t1" })));
    start({ "GET /orders": () => "network", "GET /products": () => "network" }, "/orders");
    expect(await screen.findByText(/^Network failure: the API cannot be reached/)).toBeInTheDocument();
    expect(screen.getByRole("heading", { name: "Orders" })).toBeInTheDocument();
  });
});
