import { CognitoClient, CognitoError } from "./cognito";
import { loadConfig, cognitoEndpointOf, ConfigError } from "./config";
import { allows } from "./permissions";
import { expiresSoon, loadSession, saveSession, sessionOf } from "./session";
import { CONFIG, fakeFetch, tokensFor } from "./testing";

describe("session", () => {
  it("reads role, tenant and expiry from the ID token", () => {
    const session = sessionOf(tokensFor("TenantAdmin", { "custom:tenant_id": "t1" }));
    expect(session.role).toBe("TenantAdmin");
    expect(session.tenantId).toBe("t1");
    expect(expiresSoon(session)).toBe(false);
    expect(expiresSoon(sessionOf(tokensFor("TenantUser", {}, 30)))).toBe(true);
  });

  it("has no role when the token's groups name none of the console's", () => {
    expect(sessionOf(tokensFor("Auditor")).role).toBeNull();
  });

  it("survives a reload through sessionStorage and is gone when cleared", () => {
    const session = sessionOf(tokensFor("SystemAdmin"));
    saveSession(session);
    expect(loadSession()?.tokens).toEqual(session.tokens);
    saveSession(null);
    expect(loadSession()).toBeNull();
  });

  it("drops a stored session it cannot read", () => {
    sessionStorage.setItem("saas-console.session", "{not json");
    expect(loadSession()).toBeNull();
    expect(sessionStorage.getItem("saas-console.session")).toBeNull();
  });
});

describe("config", () => {
  it("is read from /config.json, Cognito's endpoint defaulting to the region's", async () => {
    const { fetch, calls } = fakeFetch({ "GET /config.json": () => ({ body: { ...CONFIG, apiUrl: "http://api.test/", cognitoEndpoint: undefined } }) });
    const config = await loadConfig(fetch);
    expect(calls[0].url).toBe("/config.json");
    expect(config.apiUrl).toBe("http://api.test");
    expect(cognitoEndpointOf(config)).toBe("https://cognito-idp.us-east-1.amazonaws.com/");
  });

  it("names what is missing", async () => {
    const { fetch } = fakeFetch({ "GET /config.json": () => ({ body: { apiUrl: "x" } }) });
    await expect(loadConfig(fetch)).rejects.toThrow(new ConfigError("The console's settings (/config.json) lack region, userPoolId, userPoolClientId."));
  });
});

describe("permissions", () => {
  it("come from the services' contracts", () => {
    expect(allows("TenantAdmin", "POST", "/products")).toBe(true);
    expect(allows("TenantUser", "POST", "/products")).toBe(false);
    expect(allows("TenantUser", "GET", "/products?limit=10")).toBe(true);
    expect(allows("SystemAdmin", "POST", "/tenants/abc/suspend")).toBe(true);
    expect(allows(null, "GET", "/products")).toBe(false);
  });
});

describe("CognitoClient", () => {
  it("signs in with USER_PASSWORD_AUTH", async () => {
    const tokens = tokensFor("TenantUser");
    const { fetch, calls } = fakeFetch({
      InitiateAuth: () => ({ body: { AuthenticationResult: { IdToken: tokens.idToken, AccessToken: tokens.accessToken, RefreshToken: "r" } } }),
    });
    const result = await new CognitoClient("http://cognito.test/", "client-1", fetch).signIn("u", "p");
    expect(result).toEqual({ kind: "signedIn", tokens: { ...tokens, refreshToken: "r" } });
    expect(calls[0].headers["X-Amz-Target"]).toBe("AWSCognitoIdentityProviderService.InitiateAuth");
    expect(calls[0].body).toEqual({ AuthFlow: "USER_PASSWORD_AUTH", ClientId: "client-1", AuthParameters: { USERNAME: "u", PASSWORD: "p" } });
  });

  it("refreshes with REFRESH_TOKEN_AUTH, keeping the refresh token Cognito does not send again", async () => {
    const tokens = tokensFor("TenantUser");
    const { fetch, calls } = fakeFetch({
      InitiateAuth: () => ({ body: { AuthenticationResult: { IdToken: tokens.idToken, AccessToken: tokens.accessToken } } }),
    });
    const refreshed = await new CognitoClient("http://cognito.test/", "client-1", fetch).refresh("r-1");
    expect(refreshed.refreshToken).toBe("r-1");
    expect(calls[0].body).toMatchObject({ AuthFlow: "REFRESH_TOKEN_AUTH", AuthParameters: { REFRESH_TOKEN: "r-1" } });
  });

  it("revokes the refresh token with RevokeToken", async () => {
    const { fetch, calls } = fakeFetch({ RevokeToken: () => ({ body: {} }) });
    await new CognitoClient("http://cognito.test/", "client-1", fetch).revoke("r-1");
    expect(calls[0].body).toEqual({ ClientId: "client-1", Token: "r-1" });
  });

  it("words Cognito's errors and a network failure", async () => {
    const wrong = fakeFetch({ InitiateAuth: () => ({ status: 400, body: { __type: "NotAuthorizedException", message: "Incorrect username or password." } }) });
    await expect(new CognitoClient("http://c/", "c", wrong.fetch).signIn("u", "p")).rejects.toThrow("Incorrect username or password.");
    const disabled = fakeFetch({ InitiateAuth: () => ({ status: 400, body: { __type: "NotAuthorizedException", message: "User is disabled." } }) });
    await expect(new CognitoClient("http://c/", "c", disabled.fetch).signIn("u", "p")).rejects.toThrow("This user is disabled.");
    const down = fakeFetch({ InitiateAuth: () => "network" });
    const error = await new CognitoClient("http://c/", "c", down.fetch).signIn("u", "p").catch((e: CognitoError) => e);
    expect(error).toBeInstanceOf(CognitoError);
    expect((error as CognitoError).code).toBe("NetworkError");
  });
});
