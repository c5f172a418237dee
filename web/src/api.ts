/** The API client: the ID token as `Authorization: Bearer`, every failure as an ApiError in
 * words (the API's message, a 403 as a role or tenant refusal, a 429 with when to retry, a
 * network failure as such). */
import { allows } from "./permissions";
import type { Role } from "./session";

export type ErrorKind =
  | "network"
  | "unauthorized"
  | "forbidden"
  | "notFound"
  | "conflict"
  | "invalid"
  | "throttled"
  | "server";

export class ApiError extends Error {
  constructor(
    message: string,
    readonly kind: ErrorKind,
    readonly status: number,
    /** Field name (the last part of each problem's `loc`) -> what is wrong with it. */
    readonly fields: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const ROLE_REFUSED = "Your role can't do this.";
export const TENANT_REFUSED =
  "Access refused: your tenant is not active (it may be suspended). Ask your operator to reactivate it.";
export const SESSION_ENDED = "Your session has ended: sign in again.";
export const QUOTA_USED =
  "Your tenant has used its requests for today: the quota resets at 00:00 UTC.";

/** API Gateway's 429: over the tenant's rate (Retry-After: seconds) or its daily quota. */
function throttled(apiMessage: string, retryAfter: string | null): string {
  if (apiMessage === "Limit Exceeded") return QUOTA_USED;
  const seconds = Number(retryAfter);
  const wait = Number.isFinite(seconds) && seconds > 0 ? Math.ceil(seconds) : 1;
  return `Too many requests for your tenant's plan: try again in ${wait} s.`;
}

interface ProblemDetail {
  loc?: unknown[];
  msg?: string;
}

export interface Page<T> {
  items: T[];
  next_token?: string | null;
}

export interface Tenant {
  id: string;
  name: string;
  tier: "basic" | "premium";
  region_group: "us" | "eu" | "global";
  status: string;
  status_reason?: string | null;
  config: Record<string, string>;
}

export interface NewTenant {
  name: string;
  tier: string;
  region_group: string;
  admin_email: string;
  config?: Record<string, string>;
}

export interface User {
  username: string;
  email: string;
  role: string;
  /** Present once the API can disable users. */
  enabled?: boolean;
}

export interface Product {
  id: string;
  name: string;
  sku: string;
  price: string;
  stock: number;
}

export interface ProductIn {
  name: string;
  sku: string;
  price: string;
  stock: number;
}

export interface OrderLine {
  product_id: string;
  quantity: number;
}

export interface Order {
  id: string;
  status: "PENDING" | "CONFIRMED" | "REJECTED" | "CANCELLED";
  lines: OrderLine[];
  reason?: string | null;
  placed_at?: string | null;
}

/** What a tenant used and what it cost on one day, or summed over a range (the metering
 * service's GET /tenants/{id}/usage). */
export interface UsageMeasures {
  requests: number;
  errors_4xx: number;
  errors_5xx: number;
  read_capacity_units: number;
  write_capacity_units: number;
  lambda_billed_ms: number;
  lambda_gb_seconds: number;
  events_published: number;
  fauna_compute_ops: number;
  fauna_read_ops: number;
  fauna_write_ops: number;
  cost: {
    total: number;
    by_service: Record<string, number>;
    by_item: Record<string, number>;
  };
}

export interface UsageDay extends UsageMeasures {
  date: string;
}

export interface Usage {
  tenant_id: string;
  from: string;
  to: string;
  currency: string;
  /** Every day of the range, the days without usage with zeros. */
  days: UsageDay[];
  total: UsageMeasures;
}

/** Paths served by another API than their first segment's: [pattern, apiUrls key]. A tenant's
 * usage (/tenants/{id}/usage) is the metering service's, though it starts with "tenants". */
const ROUTED_ELSEWHERE: ReadonlyArray<readonly [RegExp, string]> = [[/^\/tenants\/[^/]+\/usage\/?$/, "usage"]];

/** The apiUrls key of a path: a pattern of ROUTED_ELSEWHERE when one matches, else its first
 * segment. */
export function apiKeyOf(path: string): string {
  const pathname = path.split("?")[0];
  const routed = ROUTED_ELSEWHERE.find(([pattern]) => pattern.test(pathname));
  return routed ? routed[1] : (pathname.split("/")[1] ?? "");
}

export interface ApiOptions {
  baseUrl: string;
  /** The base URL of each first path segment (config.json's apiUrls); baseUrl otherwise. */
  baseUrls?: Record<string, string>;
  /** The current ID token (refreshed first when it is about to expire); null when signed out. */
  token: () => Promise<string | null>;
  role: () => Role | null;
  /** Called on a 401: the console goes back to sign-in with the error's message. */
  onUnauthorized: (message: string) => void;
  fetcher?: typeof fetch;
}

function fieldsOf(detail: unknown): Record<string, string> {
  const fields: Record<string, string> = {};
  if (!Array.isArray(detail)) return fields;
  for (const problem of detail as ProblemDetail[]) {
    const loc = (problem.loc ?? []).filter((part) => part !== "body");
    const field = loc.length > 0 ? String(loc[0]) : "";
    const message = String(problem.msg ?? "is not valid");
    if (field && !fields[field]) fields[field] = message;
  }
  return fields;
}

export class ApiClient {
  private readonly fetcher: typeof fetch;

  constructor(private readonly options: ApiOptions) {
    this.fetcher = options.fetcher ?? ((...args) => fetch(...args));
  }

  /** The API of the path's key (apiKeyOf), or baseUrl (config.json's apiUrl) when apiUrls does
   * not name it. */
  urlOf(path: string): string {
    return (this.options.baseUrls?.[apiKeyOf(path)] ?? this.options.baseUrl).replace(/\/+$/, "") + path;
  }

  async request<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    const token = await this.options.token();
    const all: Record<string, string> = { Accept: "application/json", ...headers };
    if (token) all.Authorization = `Bearer ${token}`;
    if (body !== undefined) all["Content-Type"] = "application/json";
    let response: Response;
    try {
      response = await this.fetcher(this.urlOf(path), {
        method,
        headers: all,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new ApiError(
        "Network failure: the API cannot be reached. Check your connection and try again.",
        "network",
        0,
      );
    }
    const text = await response.text();
    let answer: unknown = null;
    try {
      answer = text ? JSON.parse(text) : null;
    } catch {
      answer = null;
    }
    if (response.ok) return answer as T;
    const record = (answer ?? {}) as Record<string, unknown>;
    const apiMessage = typeof record.message === "string" ? record.message : "";
    switch (response.status) {
      case 401:
        this.options.onUnauthorized(SESSION_ENDED);
        throw new ApiError(SESSION_ENDED, "unauthorized", 401);
      case 403:
        throw new ApiError(
          allows(this.options.role(), method, path) ? TENANT_REFUSED : ROLE_REFUSED,
          "forbidden",
          403,
        );
      case 404:
        throw new ApiError(apiMessage || "Not found.", "notFound", 404);
      case 429:
        throw new ApiError(throttled(apiMessage, response.headers.get("Retry-After")), "throttled", 429);
      case 409:
        throw new ApiError(apiMessage || "Conflict with the current state.", "conflict", 409);
      case 400:
      case 413:
      case 415:
      case 422:
        throw new ApiError(apiMessage || `The request was refused (HTTP ${response.status}).`, "invalid", response.status, fieldsOf(record.detail));
      default:
        throw new ApiError(
          apiMessage ? `The server failed: ${apiMessage}` : `The server failed (HTTP ${response.status}). Try again.`,
          "server",
          response.status,
        );
    }
  }

  private static query(limit: number, nextToken?: string | null): string {
    const params = new URLSearchParams({ limit: String(limit) });
    if (nextToken) params.set("next_token", nextToken);
    return `?${params.toString()}`;
  }

  listTenants(limit = 20, nextToken?: string | null) {
    return this.request<Page<Tenant>>("GET", `/tenants${ApiClient.query(limit, nextToken)}`);
  }
  getTenant(id: string) {
    return this.request<Tenant>("GET", `/tenants/${encodeURIComponent(id)}`);
  }
  onboardTenant(tenant: NewTenant, idempotencyKey: string) {
    return this.request<{ id: string; status: string }>("POST", "/tenants", tenant, { "Idempotency-Key": idempotencyKey });
  }
  changeTenant(id: string, change: { tier?: string; config?: Record<string, string> }) {
    return this.request<Tenant>("PATCH", `/tenants/${encodeURIComponent(id)}`, change);
  }
  suspendTenant(id: string) {
    return this.request<Tenant>("POST", `/tenants/${encodeURIComponent(id)}/suspend`);
  }
  activateTenant(id: string) {
    return this.request<Tenant>("POST", `/tenants/${encodeURIComponent(id)}/activate`);
  }
  offboardTenant(id: string) {
    return this.request<Tenant>("DELETE", `/tenants/${encodeURIComponent(id)}`);
  }

  /** A tenant's usage and estimated cost per day, `from` to `to` (YYYY-MM-DD, UTC) included. */
  getUsage(tenantId: string, from: string, to: string) {
    const query = new URLSearchParams({ from, to }).toString();
    return this.request<Usage>("GET", `/tenants/${encodeURIComponent(tenantId)}/usage?${query}`);
  }

  listUsers(limit = 20, nextToken?: string | null) {
    return this.request<Page<User>>("GET", `/users${ApiClient.query(limit, nextToken)}`);
  }
  inviteUser(email: string, role: string) {
    return this.request<User>("POST", "/users", { email, role });
  }
  userAction(username: string, action: "disable" | "enable" | "resend-invitation") {
    return this.request<unknown>("POST", `/users/${encodeURIComponent(username)}/${action}`);
  }
  removeUser(username: string) {
    return this.request<unknown>("DELETE", `/users/${encodeURIComponent(username)}`);
  }

  listProducts(limit = 10, nextToken?: string | null) {
    return this.request<Page<Product>>("GET", `/products${ApiClient.query(limit, nextToken)}`);
  }
  createProduct(product: ProductIn) {
    return this.request<Product>("POST", "/products", product);
  }
  updateProduct(id: string, product: ProductIn) {
    return this.request<Product>("PUT", `/products/${encodeURIComponent(id)}`, product);
  }
  deleteProduct(id: string) {
    return this.request<unknown>("DELETE", `/products/${encodeURIComponent(id)}`);
  }

  listOrders(limit = 20, nextToken?: string | null) {
    return this.request<Page<Order>>("GET", `/orders${ApiClient.query(limit, nextToken)}`);
  }
  getOrder(id: string) {
    return this.request<Order>("GET", `/orders/${encodeURIComponent(id)}`);
  }
  placeOrder(lines: OrderLine[], idempotencyKey: string) {
    return this.request<{ id: string; status: string }>("POST", "/orders", { lines }, { "Idempotency-Key": idempotencyKey });
  }
  cancelOrder(id: string) {
    return this.request<Order>("POST", `/orders/${encodeURIComponent(id)}/cancel`);
  }
}
