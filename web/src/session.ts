/** The signed-in user: Cognito's tokens, kept in sessionStorage, and what the ID token says.
 *
 * sessionStorage, not localStorage: the session survives a reload of the tab (what users expect)
 * but ends with the tab, and no other tab or a later visitor of a shared machine finds a refresh
 * token lying in the browser. The ID token is read, not verified: the API's authorizer verifies
 * it on every call; the console only uses it to choose pages. */
import type { Tokens } from "./cognito";

export type Role = "SystemAdmin" | "TenantAdmin" | "TenantUser";
const ROLES: readonly Role[] = ["SystemAdmin", "TenantAdmin", "TenantUser"];

export interface Session {
  tokens: Tokens;
  username: string;
  email: string;
  role: Role | null;
  tenantId: string | null;
  /** Seconds since the epoch when the ID token expires. */
  expiresAt: number;
}

const KEY = "saas-console.session";

export function decodeJwtPayload(token: string): Record<string, unknown> {
  const part = token.split(".")[1];
  if (!part) throw new Error("not a JWT");
  const base64 = part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "=");
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
}

export function sessionOf(tokens: Tokens): Session {
  const claims = decodeJwtPayload(tokens.idToken);
  const groups = Array.isArray(claims["cognito:groups"]) ? (claims["cognito:groups"] as unknown[]) : [];
  const role = ROLES.find((r) => groups.includes(r)) ?? null;
  const tenant = claims["custom:tenant_id"];
  return {
    tokens,
    username: String(claims["cognito:username"] ?? claims.username ?? claims.sub ?? ""),
    email: String(claims.email ?? claims["cognito:username"] ?? ""),
    role,
    tenantId: typeof tenant === "string" && tenant ? tenant : null,
    expiresAt: Number(claims.exp ?? 0),
  };
}

export function saveSession(session: Session | null, storage: Storage = sessionStorage): void {
  if (session) storage.setItem(KEY, JSON.stringify(session.tokens));
  else storage.removeItem(KEY);
}

export function loadSession(storage: Storage = sessionStorage): Session | null {
  const raw = storage.getItem(KEY);
  if (!raw) return null;
  try {
    return sessionOf(JSON.parse(raw) as Tokens);
  } catch {
    storage.removeItem(KEY);
    return null;
  }
}

/** True when the ID token expires within `marginSeconds`. */
export function expiresSoon(session: Session, nowSeconds = Date.now() / 1000, marginSeconds = 60): boolean {
  return session.expiresAt - nowSeconds < marginSeconds;
}
