/** The console's settings, read at run time from /config.json on its own origin (the local
 * platform writes it; in AWS it comes from the stacks' outputs). */
export interface ConsoleConfig {
  apiUrl: string;
  /** The API of each first path segment ("tenants", "orders"...): in AWS each service has its
   * own API; a segment not named here goes to apiUrl. */
  apiUrls?: Record<string, string>;
  region: string;
  userPoolId: string;
  userPoolClientId: string;
  /** Cognito's endpoint; absent in AWS, where it is https://cognito-idp.<region>.amazonaws.com/ */
  cognitoEndpoint?: string;
}

export class ConfigError extends Error {}

export function cognitoEndpointOf(config: ConsoleConfig): string {
  return config.cognitoEndpoint || `https://cognito-idp.${config.region}.amazonaws.com/`;
}

export async function loadConfig(fetcher: typeof fetch = fetch): Promise<ConsoleConfig> {
  let response: Response;
  try {
    response = await fetcher("/config.json", { cache: "no-store" });
  } catch {
    throw new ConfigError("The console could not load its settings (/config.json): network failure.");
  }
  if (!response.ok) {
    throw new ConfigError(`The console could not load its settings (/config.json): HTTP ${response.status}.`);
  }
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    throw new ConfigError("The console's settings (/config.json) are not JSON.");
  }
  const missing = ["apiUrl", "region", "userPoolId", "userPoolClientId"].filter(
    (key) => typeof (body as Record<string, unknown>)?.[key] !== "string",
  );
  if (missing.length > 0) {
    throw new ConfigError(`The console's settings (/config.json) lack ${missing.join(", ")}.`);
  }
  const config = body as ConsoleConfig;
  const apiUrls: Record<string, string> = {};
  for (const [segment, url] of Object.entries(config.apiUrls ?? {})) {
    if (typeof url === "string") apiUrls[segment] = url.replace(/\/+$/, "");
  }
  return { ...config, apiUrl: config.apiUrl.replace(/\/+$/, ""), apiUrls };
}
