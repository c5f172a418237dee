import { ApiClient, ApiError, QUOTA_USED, ROLE_REFUSED, SESSION_ENDED, TENANT_REFUSED } from "./api";
import type { Role } from "./session";
import { fakeFetch, type Route } from "./testing";

function client(routes: Record<string, Route>, role: Role = "TenantUser") {
  const fake = fakeFetch(routes);
  const unauthorized: string[] = [];
  const api = new ApiClient({
    baseUrl: "http://api.test",
    token: async () => "id-token",
    role: () => role,
    onUnauthorized: (message) => unauthorized.push(message),
    fetcher: fake.fetch,
  });
  return { api, calls: fake.calls, unauthorized };
}

async function failure(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error("no error");
}

describe("ApiClient", () => {
  it("sends the ID token as a bearer token and pages with limit and next_token", async () => {
    const { api, calls } = client({ "GET /products": () => ({ body: { items: [], next_token: null } }) });
    await api.listProducts(10, "t/2");
    expect(calls[0].headers.Authorization).toBe("Bearer id-token");
    expect(calls[0].url).toBe("http://api.test/products?limit=10&next_token=t%2F2");
  });

  it("sends an idempotency key with an order", async () => {
    const { api, calls } = client({ "POST /orders": () => ({ status: 202, body: { id: "o1", status: "PENDING" } }) });
    await api.placeOrder([{ product_id: "p1", quantity: 2 }], "key-1");
    expect(calls[0].headers["Idempotency-Key"]).toBe("key-1");
    expect(calls[0].body).toEqual({ lines: [{ product_id: "p1", quantity: 2 }] });
  });

  it("puts each 422 problem at its field, with the API's message", async () => {
    const { api } = client(
      {
        "POST /tenants": () => ({
          status: 422,
          body: {
            message: "invalid request: admin_email: String should match pattern",
            detail: [
              { loc: ["body", "admin_email"], msg: "String should match pattern", type: "string_pattern_mismatch" },
              { loc: ["body", "config", "k"], msg: "too long", type: "string_too_long" },
            ],
          },
        }),
      },
      "SystemAdmin",
    );
    const error = await failure(api.onboardTenant({ name: "A", tier: "basic", region_group: "us", admin_email: "x" }, "k"));
    expect(error.kind).toBe("invalid");
    expect(error.message).toBe("invalid request: admin_email: String should match pattern");
    expect(error.fields).toEqual({ admin_email: "String should match pattern", config: "too long" });
  });

  it("says a 403 on a route the role may not call is the role's", async () => {
    const { api } = client({ "POST /products": () => ({ status: 403, body: { message: "User is not authorized" } }) });
    const error = await failure(api.createProduct({ name: "n", sku: "s", price: "1", stock: 1 }));
    expect(error.message).toBe(ROLE_REFUSED);
  });

  it("says a 403 on a route the role may call is the tenant's standing", async () => {
    const { api } = client({ "GET /products": () => ({ status: 403, body: { message: "explicit deny" } }) });
    const error = await failure(api.listProducts());
    expect(error.message).toBe(TENANT_REFUSED);
  });

  it("says when to retry a request throttled by the tenant's plan", async () => {
    const { api } = client({
      "GET /products": () => ({ status: 429, body: { message: "Too Many Requests" }, headers: { "Retry-After": "3" } }),
    });
    const error = await failure(api.listProducts());
    expect(error.kind).toBe("throttled");
    expect(error.message).toBe("Too many requests for your tenant's plan: try again in 3 s.");
  });

  it("says the daily quota is used up and when it resets", async () => {
    const { api } = client({ "GET /orders": () => ({ status: 429, body: { message: "Limit Exceeded" } }) });
    const error = await failure(api.listOrders());
    expect(error.kind).toBe("throttled");
    expect(error.message).toBe(QUOTA_USED);
  });

  it("ends the session on a 401", async () => {
    const { api, unauthorized } = client({ "GET /orders": () => ({ status: 401, body: { message: "Unauthorized" } }) });
    const error = await failure(api.listOrders());
    expect(error.kind).toBe("unauthorized");
    expect(unauthorized).toEqual([SESSION_ENDED]);
  });

  it("names a network failure as such", async () => {
    const { api } = client({ "GET /orders": () => "network" });
    const error = await failure(api.listOrders());
    expect(error.kind).toBe("network");
    expect(error.message).toMatch(/^Network failure/);
  });

  it("shows the API's message of a conflict and a server failure", async () => {
    const { api } = client(
      {
        "POST /tenants/t1/suspend": () => ({ status: 409, body: { message: "tenant t1 is PROVISIONING" } }),
        "POST /tenants/t1/activate": () => ({ status: 502, body: { message: "Internal server error" } }),
      },
      "SystemAdmin",
    );
    expect((await failure(api.suspendTenant("t1"))).message).toBe("tenant t1 is PROVISIONING");
    expect((await failure(api.activateTenant("t1"))).message).toBe("The server failed: Internal server error");
  });

  it("calls each collection's own API when config.json names them", async () => {
    const fake = fakeFetch({ "GET /orders": () => ({ body: { items: [] } }), "GET /tenants": () => ({ body: { items: [] } }) });
    const api = new ApiClient({
      baseUrl: "http://api.test",
      baseUrls: { orders: "https://orders.example/" },
      token: async () => "t",
      role: () => "SystemAdmin",
      onUnauthorized: () => undefined,
      fetcher: fake.fetch,
    });
    await api.listOrders();
    await api.listTenants();
    expect(fake.calls.map((c) => c.url)).toEqual(["https://orders.example/orders?limit=20", "http://api.test/tenants?limit=20"]);
  });

  it("encodes a username in the path", async () => {
    const { api, calls } = client({ "POST /users/a%2Bb%40x.test/disable": () => ({ body: {} }) }, "TenantAdmin");
    await api.userAction("a+b@x.test", "disable");
    expect(calls[0].url).toBe("http://api.test/users/a%2Bb%40x.test/disable");
  });
});
