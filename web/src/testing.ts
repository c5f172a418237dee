/** Test helpers: unsigned JWTs with the claims a page reads, and a fake fetch by URL and target. */
import type { Tokens } from "./cognito";

function base64url(value: unknown): string {
  return btoa(JSON.stringify(value)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function jwt(claims: Record<string, unknown>): string {
  return `${base64url({ alg: "none" })}.${base64url(claims)}.signature`;
}

export function tokensFor(role: string, extra: Record<string, unknown> = {}, expiresIn = 3600): Tokens {
  const exp = Math.floor(Date.now() / 1000) + expiresIn;
  return {
    idToken: jwt({ "cognito:groups": [role], "cognito:username": `${role.toLowerCase()}-1`, email: `${role.toLowerCase()}@x.test`, exp, ...extra }),
    accessToken: jwt({ exp }),
    refreshToken: "refresh-1",
  };
}

export interface Call {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: unknown;
}

export type Route = (call: Call) => { status?: number; body?: unknown; headers?: Record<string, string> } | "network";

/** A fetch answering by "<METHOD> <path>" (API) or the Cognito X-Amz-Target operation name. */
export function fakeFetch(routes: Record<string, Route>): { fetch: typeof fetch; calls: Call[] } {
  const calls: Call[] = [];
  const fetcher = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = String(input);
    const headers = (init?.headers ?? {}) as Record<string, string>;
    const body = init?.body ? JSON.parse(String(init.body)) : undefined;
    const call: Call = { url, method: init?.method ?? "GET", headers, body };
    calls.push(call);
    const target = headers["X-Amz-Target"]?.split(".").pop();
    const path = new URL(url, "http://console.test").pathname;
    const route = routes[target ?? ""] ?? routes[`${call.method} ${path}`];
    if (!route) throw new Error(`unexpected ${call.method} ${url} ${target ?? ""}`);
    const answer = route(call);
    if (answer === "network") throw new TypeError("Failed to fetch");
    return new Response(answer.body === undefined ? "" : JSON.stringify(answer.body), {
      status: answer.status ?? 200,
      headers: answer.headers,
    });
  };
  return { fetch: fetcher as typeof fetch, calls };
}

export const CONFIG = {
  apiUrl: "http://api.test",
  region: "us-east-1",
  userPoolId: "us-east-1_pool",
  userPoolClientId: "client-1",
  cognitoEndpoint: "http://cognito.test/",
};
