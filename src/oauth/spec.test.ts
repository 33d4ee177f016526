import { describe, expect, it } from "vitest";
import { checkWithSchema } from "../sdk/index.js";
import { lintOAuth } from "./lint.js";
import { oauth2Providers } from "./providers/presets.js";
import { applyResponseMap, renderAuthUrl, renderTokenRequest } from "./render.js";
import { accessTokenCredentialsSchema, clientCredentialsSchema, credentialsSchema, defineOAuth2, oauth2CredentialsSchema } from "./spec.js";

describe("defineOAuth2", () => {
  it("writes templates that render to a standard authorization-code flow with PKCE", () => {
    const { oauth2 } = defineOAuth2({ provider: "acme", authorizeUrl: "https://acme.example/oauth/authorize?audience=api", tokenUrl: "https://acme.example/oauth/token", scopes: ["read:a", "write b"] });
    const url = new URL(renderAuthUrl(oauth2, { clientId: "id+1", state: "S", redirectUri: "http://127.0.0.1:5000/", codeChallenge: "CH" }));
    expect(Object.fromEntries(url.searchParams)).toEqual({
      audience: "api",
      client_id: "id+1",
      redirect_uri: "http://127.0.0.1:5000/",
      response_type: "code",
      state: "S",
      scope: "read:a write b",
      code_challenge: "CH",
      code_challenge_method: "S256",
    });
    const req = renderTokenRequest(oauth2, { clientId: "id+1", clientSecret: "s&=", redirectUri: "http://127.0.0.1:5000/", codeVerifier: "V", params: { code: "c/d" } });
    expect(req.url).toBe("https://acme.example/oauth/token");
    expect(req.headers).toEqual({ accept: "application/json", "content-type": "application/x-www-form-urlencoded" });
    expect(Object.fromEntries(new URLSearchParams(req.body!))).toEqual({
      grant_type: "authorization_code",
      code: "c/d",
      redirect_uri: "http://127.0.0.1:5000/",
      client_id: "id+1",
      client_secret: "s&=",
      code_verifier: "V",
    });
  });

  it("authenticates with a Basic header instead of the form when asked, and can leave PKCE out", () => {
    const { oauth2 } = defineOAuth2({ provider: "acme", authorizeUrl: "https://a/auth", tokenUrl: "https://a/token", clientAuthentication: "client_secret_basic", pkce: false });
    const req = renderTokenRequest(oauth2, { clientId: "i", clientSecret: "s", params: { code: "c" } });
    expect(req.headers.authorization).toBe("Basic " + btoa("i:s"));
    expect(req.body).not.toMatch(/client_secret|code_verifier/);
    expect(oauth2.authUrlTemplate).not.toMatch(/code_challenge/);
  });

  it("maps and declares what each credentials kind keeps", () => {
    const now = () => new Date("2024-01-01T00:00:00Z");
    const response = { access_token: "A", refresh_token: "R", expires_in: 60, scope: "x" };
    const rotating = defineOAuth2({ provider: "p", authorizeUrl: "https://a/auth", tokenUrl: "https://a/token", credentials: "rotating" });
    expect(applyResponseMap(rotating.oauth2.accessTokenResponseMap, response, { now })).toEqual({ refresh_token: "R", access_token: "A", access_token_expires_at: "2024-01-01T00:01:00.000Z" });
    expect(rotating.credentials.required).toEqual(["credentials_title", "client_id", "client_secret", "refresh_token", "access_token", "access_token_expires_at"]);
    const longLived = defineOAuth2({ provider: "p", authorizeUrl: "https://a/auth", tokenUrl: "https://a/token", credentials: "access_token" });
    expect(applyResponseMap(longLived.oauth2.accessTokenResponseMap, response)).toEqual({ access_token: "A" });
    expect(defineOAuth2({ provider: "p", authorizeUrl: "https://a/auth", tokenUrl: "https://a/token" }).oauth2.accessTokenResponseMap).toEqual({ refresh_token: "/refresh_token" });
  });

  it("builds the credentials schema Flow's UI expects (estuary-cdk's shape)", () => {
    expect(oauth2CredentialsSchema({ provider: "hubspot", credentials: "refresh_token" })).toEqual({
      type: "object",
      title: "OAuth",
      "x-oauth2-provider": "hubspot",
      properties: {
        credentials_title: { type: "string", const: "OAuth Credentials", default: "OAuth Credentials", title: "Credentials Title" },
        client_id: { type: "string", title: "Client ID", secret: true },
        client_secret: { type: "string", title: "Client Secret", secret: true },
        refresh_token: { type: "string", title: "Refresh Token", secret: true },
      },
      required: ["credentials_title", "client_id", "client_secret", "refresh_token"],
    });
    const schema = { type: "object", properties: { credentials: credentialsSchema(oauth2Providers.hubspot().credentials, accessTokenCredentialsSchema(), clientCredentialsSchema()) }, required: ["credentials"] } as const;
    expect(schema.properties.credentials.discriminator).toEqual({ propertyName: "credentials_title" });
    // A config the OAuth flow produces validates; so does each other auth method; a mix does not.
    expect(checkWithSchema(schema, { credentials: { credentials_title: "OAuth Credentials", client_id: "i", client_secret: "s", refresh_token: "r" } })).toEqual([]);
    expect(checkWithSchema(schema, { credentials: { credentials_title: "Private App Credentials", access_token: "t" } })).toEqual([]);
    expect(checkWithSchema(schema, { credentials: { credentials_title: "OAuth Client Credentials", client_id: "i", client_secret: "s" } })).toEqual([]);
    expect(checkWithSchema(schema, { credentials: { credentials_title: "OAuth Credentials", access_token: "t" } })).toEqual([
      { path: "credentials.client_id", message: "is required" },
      { path: "credentials.client_secret", message: "is required" },
      { path: "credentials.refresh_token", message: "is required" },
    ]);
  });
});

describe("provider presets", () => {
  const render = (def: { oauth2: Parameters<typeof renderAuthUrl>[0] }, config: Record<string, unknown> = {}) =>
    new URL(renderAuthUrl(def.oauth2, { clientId: "c", state: "s", redirectUri: "http://127.0.0.1/", codeChallenge: "x", config }));

  it("GitHub: long-lived token, secret in the form", () => {
    const gh = oauth2Providers.github({ scopes: ["repo", "read:org"] });
    expect(render(gh).origin + render(gh).pathname).toBe("https://github.com/login/oauth/authorize");
    expect(render(gh).searchParams.get("scope")).toBe("repo read:org");
    expect(gh.oauth2.accessTokenResponseMap).toEqual({ access_token: "/access_token" });
    expect(Object.keys(gh.credentials.properties)).toEqual(["credentials_title", "client_id", "client_secret", "access_token"]);
    expect(oauth2Providers.github({ credentials: "rotating" }).oauth2.accessTokenResponseMap).toHaveProperty("refresh_token", "/refresh_token");
  });

  it("Google: offline access with consent, so a refresh token always comes back", () => {
    const g = render(oauth2Providers.google({ scopes: ["https://www.googleapis.com/auth/spreadsheets.readonly"] }));
    expect(g.searchParams.get("access_type")).toBe("offline");
    expect(g.searchParams.get("prompt")).toBe("consent");
    expect(g.host).toBe("accounts.google.com");
  });

  it("Microsoft: offline_access added, tenant fixed or from the config, scopes repeated in the token request", () => {
    const fixed = oauth2Providers.microsoft({ scopes: ["https://graph.microsoft.com/User.Read"] });
    expect(render(fixed).pathname).toBe("/common/oauth2/v2.0/authorize");
    expect(render(fixed).searchParams.get("scope")).toBe("https://graph.microsoft.com/User.Read offline_access");
    const fromConfig = oauth2Providers.microsoft({ tenant: { configKey: "tenant_id" } });
    expect(render(fromConfig, { tenant_id: "contoso.onmicrosoft.com" }).pathname).toBe("/contoso.onmicrosoft.com/oauth2/v2.0/authorize");
    const req = renderTokenRequest(fromConfig.oauth2, { clientId: "c", clientSecret: "s", config: { tenant_id: "t1" }, params: { code: "k" } });
    expect(req.url).toBe("https://login.microsoftonline.com/t1/oauth2/v2.0/token");
    expect(new URLSearchParams(req.body!).get("scope")).toBe("offline_access");
  });

  it("Salesforce: keeps instance_url, signs in to the sandbox when the config says so", () => {
    const sf = oauth2Providers.salesforce({ sandboxConfigKey: "is_sandbox" });
    expect(render(sf, { is_sandbox: true }).host).toBe("test.salesforce.com");
    expect(render(sf, { is_sandbox: false }).host).toBe("login.salesforce.com");
    expect(applyResponseMap(sf.oauth2.accessTokenResponseMap, { refresh_token: "r", instance_url: "https://acme.my.salesforce.com" })).toEqual({ refresh_token: "r", instance_url: "https://acme.my.salesforce.com" });
    expect(sf.credentials.required).toContain("instance_url");
    expect(sf.credentials.properties.instance_url).toEqual({ type: "string", title: "Instance URL" });
  });

  it("HubSpot: optional scopes, no PKCE", () => {
    const hs = render(oauth2Providers.hubspot({ scopes: ["crm.objects.contacts.read"], optionalScopes: ["automation"] }));
    expect(hs.searchParams.get("optional_scope")).toBe("automation");
    expect(hs.searchParams.has("code_challenge")).toBe(false);
  });

  it("every preset lints clean", () => {
    for (const def of [oauth2Providers.github(), oauth2Providers.google(), oauth2Providers.microsoft(), oauth2Providers.salesforce(), oauth2Providers.hubspot()]) {
      const configSchema = { type: "object", properties: { credentials: credentialsSchema(def.credentials) }, required: ["credentials"] };
      expect(lintOAuth({ configSchema, oauth2: def.oauth2 })).toEqual([]);
    }
  });
});
