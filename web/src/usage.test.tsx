import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { App } from "./App";
import { ApiClient, apiKeyOf, type Usage, type UsageDay } from "./api";
import { BarChart, money, rangeOf } from "./components/usage";
import { saveSession, sessionOf } from "./session";
import { CONFIG, fakeFetch, tokensFor, type Route } from "./testing";

// The metering service's route, as its contracts/permissions.json grants it (the contract of
// issue 17): the console shows usage only where the contracts have the route.
const state = vi.hoisted(() => ({ metered: true }));
vi.mock("./permissions", async (importOriginal) => {
  const real = await importOriginal<typeof import("./permissions")>();
  const usage = { method: "GET", path: "/tenants/{tenant_id}/usage", roles: ["SystemAdmin", "TenantAdmin"] };
  return {
    ...real,
    allows: (role: Parameters<typeof real.allows>[0], method: string, path: string, routes?: typeof real.ROUTES) =>
      real.allows(
        role,
        method,
        path,
        routes ??
          (state.metered
            ? [...real.ROUTES, usage]
            : real.ROUTES.filter((r) => !r.path.endsWith("/usage") && !r.path.startsWith("/usage"))),
      ),
  };
});

const NOW = new Date("2026-12-04T02:00:00Z");
const USAGE_URL = "http://usage.test";
const config = { ...CONFIG, apiUrls: { tenants: "http://tenant.test", usage: USAGE_URL } };
const tenant = { id: "t1", name: "Acme", tier: "basic", region_group: "us", status: "ACTIVE", config: {} };

function measures(requests: number, cost: Record<string, number>) {
  const total = Object.values(cost).reduce((a, b) => a + b, 0);
  return {
    requests,
    errors_4xx: requests > 0 ? 1 : 0,
    errors_5xx: 0,
    read_capacity_units: requests * 2,
    write_capacity_units: requests,
    lambda_billed_ms: requests * 40,
    lambda_gb_seconds: requests * 0.01,
    events_published: requests > 0 ? 3 : 0,
    fauna_compute_ops: 0,
    fauna_read_ops: 0,
    fauna_write_ops: 0,
    cost: { total, by_service: cost, by_item: { lambda: total / 2, dynamodb: total / 2 } },
  };
}

function usageOf(from: string, to: string, busy: Record<string, number> = {}): Usage {
  const days: UsageDay[] = [];
  for (let t = Date.parse(from); t <= Date.parse(to); t += 86_400_000) {
    const date = new Date(t).toISOString().slice(0, 10);
    const requests = busy[date] ?? 0;
    days.push({ date, ...measures(requests, requests ? { order: requests * 0.001, product: requests * 0.0005 } : {}) });
  }
  const total = measures(
    days.reduce((a, d) => a + d.requests, 0),
    { order: days.reduce((a, d) => a + (d.cost.by_service.order ?? 0), 0), product: days.reduce((a, d) => a + (d.cost.by_service.product ?? 0), 0) },
  );
  total.errors_4xx = days.reduce((a, d) => a + d.errors_4xx, 0);
  return { tenant_id: "t1", from, to, currency: "USD", days, total };
}

function usageRoute(busy: Record<string, number> = {}): Route {
  return (call) => {
    const query = new URL(call.url).searchParams;
    return { body: usageOf(query.get("from") ?? "", query.get("to") ?? "", busy) };
  };
}

/** The console signed in as `role` at `path`; the usage calls wait for `gate` when given. */
function start(role: "SystemAdmin" | "TenantAdmin", routes: Record<string, Route>, path: string, gate?: Promise<void>) {
  saveSession(sessionOf(tokensFor(role, role === "TenantAdmin" ? { "custom:tenant_id": "t1" } : {})));
  window.history.replaceState(null, "", path);
  const fake = fakeFetch(routes);
  const fetcher = (async (input: RequestInfo | URL, init?: RequestInit) => {
    if (gate && String(input).includes("/usage")) await gate;
    return fake.fetch(input, init);
  }) as typeof fetch;
  render(<App config={config} fetcher={fetcher} />);
  return fake;
}

beforeEach(() => {
  state.metered = true;
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(NOW);
});

afterEach(() => {
  vi.useRealTimers();
});

describe("routing a path to its API", () => {
  it("sends a tenant's usage to apiUrls.usage though it starts with tenants", () => {
    expect(apiKeyOf("/tenants/t1/usage?from=2026-12-01&to=2026-12-04")).toBe("usage");
    expect(apiKeyOf("/usage/shared")).toBe("usage");
    expect(apiKeyOf("/tenants/t1")).toBe("tenants");
    expect(apiKeyOf("/tenants/t1/suspend")).toBe("tenants");
    expect(apiKeyOf("/tenants/usage")).toBe("tenants");
    expect(apiKeyOf("/orders/o1/cancel")).toBe("orders");
  });

  it("falls back to apiUrl when config.json names no usage API", () => {
    const options = { baseUrl: "http://api.test", token: async () => null, role: () => null, onUnauthorized: () => undefined };
    const routed = new ApiClient({ ...options, baseUrls: { tenants: "http://tenant.test", usage: "http://usage.test/" } });
    const unrouted = new ApiClient({ ...options, baseUrls: { tenants: "http://tenant.test" } });
    expect(routed.urlOf("/tenants/t%201/usage?from=a")).toBe("http://usage.test/tenants/t%201/usage?from=a");
    expect(routed.urlOf("/tenants/t1")).toBe("http://tenant.test/tenants/t1");
    expect(unrouted.urlOf("/tenants/t1/usage")).toBe("http://api.test/tenants/t1/usage");
  });
});

describe("the usage chart", () => {
  it("picks the last 7 and 30 days, today included (UTC)", () => {
    expect(rangeOf(7, NOW)).toEqual({ from: "2026-11-28", to: "2026-12-04" });
    expect(rangeOf(30, NOW)).toEqual({ from: "2026-11-05", to: "2026-12-04" });
  });

  it("scales the bars to the tallest and says each bar's figures", () => {
    const { container } = render(
      <BarChart
        title="Requests per day"
        keys={["answered", "4xx"]}
        bars={[
          { label: "2026-12-01", values: [0, 0] },
          { label: "2026-12-02", values: [30, 10] },
          { label: "2026-12-03", values: [10, 10] },
        ]}
        format={String}
      />,
    );
    expect(screen.getByRole("img", { name: "Requests per day: highest 40 on 2026-12-02" })).toBeInTheDocument();
    const bars = container.querySelectorAll("g[data-bar]");
    expect(bars).toHaveLength(3);
    const heights = (label: string) =>
      [...container.querySelectorAll(`g[data-bar="${label}"] rect`)].map((r) => Number(r.getAttribute("height")));
    expect(heights("2026-12-01")).toEqual([0, 0]);
    expect(heights("2026-12-02")).toEqual([120, 40]);
    expect(heights("2026-12-03")).toEqual([40, 40]);
    // stacked: the second segment sits on the first
    const second = container.querySelectorAll('g[data-bar="2026-12-02"] rect')[1];
    expect(Number(second.getAttribute("y"))).toBe(0);
    expect(bars[1].querySelector("title")?.textContent).toBe("2026-12-02: 40 (answered 30, 4xx 10)");
  });

  it("draws an empty chart flat", () => {
    const { container } = render(<BarChart title="Cost" keys={["cost"]} bars={[{ label: "2026-12-01", values: [0] }]} format={String} />);
    expect(screen.getByRole("img", { name: "Cost: nothing yet" })).toBeInTheDocument();
    expect(container.querySelector("rect")?.getAttribute("height")).toBe("0");
  });

  it("writes fractions of a cent", () => {
    expect(money(0.0123)).toBe("$0.0123");
    expect(money(0.062)).toBe("$0.0620");
    expect(money(12.5)).toBe("$12.50");
    expect(money(0)).toBe("$0.00");
  });
});

describe("the SystemAdmin's tenant page", () => {
  it("shows the last 7 days' usage and cost, then the last 30", async () => {
    let answer!: () => void;
    const { calls } = start(
      "SystemAdmin",
      { "GET /tenants/t1": () => ({ body: tenant }), "GET /tenants/t1/usage": usageRoute({ "2026-12-03": 100, "2026-11-10": 50 }) },
      "/tenants/t1",
      new Promise<void>((resolve) => (answer = resolve)),
    );
    const section = await screen.findByRole("region", { name: "Usage and estimated cost" });
    expect(within(section).getByRole("status")).toHaveTextContent("Loading usage…");
    answer();
    await within(section).findByRole("img", { name: /Estimated cost per day \(USD\), by service: highest \$0\.1500 on 2026-12-03/ });
    const usageCall = calls.find((c) => c.url.includes("/usage"));
    expect(usageCall?.url).toBe(`${USAGE_URL}/tenants/t1/usage?from=2026-11-28&to=2026-12-04`);
    expect(usageCall?.headers.Authorization).toMatch(/^Bearer /);
    expect(section.querySelectorAll("figure")[0].querySelectorAll("g[data-bar]")).toHaveLength(7);
    expect(within(section).getByText("Estimated cost", { selector: "dt" }).nextElementSibling).toHaveTextContent("$0.1500");
    expect(within(section).getByText("Requests", { selector: "dt" }).nextElementSibling).toHaveTextContent("100");
    const byService = within(section).getByRole("table", { name: "Cost by service" });
    const rows = within(byService).getAllByRole("row").slice(1);
    expect(rows.map((r) => [...r.querySelectorAll("th, td")].map((cell) => cell.textContent))).toEqual([
      ["order", "$0.1000", "67 %"],
      ["product", "$0.0500", "33 %"],
    ]);

    await userEvent.setup().click(within(section).getByRole("radio", { name: "Last 30 days" }));
    await waitFor(() => expect(section.querySelectorAll("figure")[0]?.querySelectorAll("g[data-bar]")).toHaveLength(30));
    expect(calls.filter((c) => c.url.includes("/usage")).slice(-1)[0]?.url).toBe(`${USAGE_URL}/tenants/t1/usage?from=2026-11-05&to=2026-12-04`);
    expect(within(section).getByText("Requests", { selector: "dt" }).nextElementSibling).toHaveTextContent("150");
  });

  it("says when the tenant has no usage yet", async () => {
    start("SystemAdmin", { "GET /tenants/t1": () => ({ body: tenant }), "GET /tenants/t1/usage": usageRoute() }, "/tenants/t1");
    const section = await screen.findByRole("region", { name: "Usage and estimated cost" });
    expect(await within(section).findByText("No usage yet in the last 7 days.")).toBeInTheDocument();
    expect(section.querySelector("figure")).toBeNull();
  });

  it("says a 429 with when to retry, and tries again on request", async () => {
    let answers = 0;
    start(
      "SystemAdmin",
      {
        "GET /tenants/t1": () => ({ body: tenant }),
        "GET /tenants/t1/usage": (call) => {
          answers += 1;
          if (answers === 1) return { status: 429, body: { message: "Too Many Requests" }, headers: { "Retry-After": "7" } };
          return usageRoute({ "2026-12-04": 3 })(call);
        },
      },
      "/tenants/t1",
    );
    const section = await screen.findByRole("region", { name: "Usage and estimated cost" });
    expect(await within(section).findByRole("alert")).toHaveTextContent("Too many requests for your tenant's plan: try again in 7 s.");
    await userEvent.setup().click(within(section).getByRole("button", { name: "Try again" }));
    expect(await within(section).findByRole("table", { name: "Cost by service" })).toBeInTheDocument();
    expect(within(section).queryByRole("alert")).toBeNull();
  });

  it("says a 403 in words", async () => {
    start(
      "SystemAdmin",
      { "GET /tenants/t1": () => ({ body: tenant }), "GET /tenants/t1/usage": () => ({ status: 403, body: { message: "Forbidden" } }) },
      "/tenants/t1",
    );
    const section = await screen.findByRole("region", { name: "Usage and estimated cost" });
    expect(await within(section).findByRole("alert")).toHaveTextContent(/not active/);
  });

  it("shows no usage and calls nothing while the platform meters no usage", async () => {
    state.metered = false;
    const { calls } = start("SystemAdmin", { "GET /tenants/t1": () => ({ body: tenant }) }, "/tenants/t1");
    expect(await screen.findByRole("heading", { name: "Tenant Acme" })).toBeInTheDocument();
    expect(screen.queryByRole("region", { name: "Usage and estimated cost" })).toBeNull();
    expect(calls.some((c) => c.url.includes("/usage"))).toBe(false);
  });
});

describe("the TenantAdmin's own usage", () => {
  it("is a page of its own, for its own tenant", async () => {
    const { calls } = start(
      "TenantAdmin",
      { "GET /products": () => ({ body: { items: [], next_token: null } }), "GET /tenants/t1/usage": usageRoute({ "2026-12-01": 9 }) },
      "/products",
    );
    await userEvent.setup().click(await screen.findByRole("link", { name: "Usage" }));
    expect(await screen.findByRole("heading", { level: 1, name: "Usage" })).toBeInTheDocument();
    const section = screen.getByRole("region", { name: "Usage and estimated cost" });
    expect(await within(section).findByRole("table", { name: "Cost by service" })).toBeInTheDocument();
    expect(calls.filter((c) => c.url.includes("/usage")).map((c) => c.url)).toEqual([
      `${USAGE_URL}/tenants/t1/usage?from=2026-11-28&to=2026-12-04`,
    ]);
  });

  it("has no Usage page while the platform meters no usage", async () => {
    state.metered = false;
    start("TenantAdmin", {}, "/usage");
    expect(await screen.findByRole("heading", { name: "Page not found" })).toBeInTheDocument();
    expect(screen.queryByRole("link", { name: "Usage" })).toBeNull();
  });
});
