import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  buildCredentials,
  createOAuth2TokenSource,
  credentialsSchema,
  defineOAuth2,
  lintOAuth,
  persistWithConfigUpdate,
  runLocalFlow,
  type OAuth2Credentials,
} from "../../src/oauth/index.js";
import type { OAuth2 } from "../../src/protocol/index.js";
import { createLogger } from "../../src/runtime/index.js";
import { createHttpClient } from "../../src/sdk/index.js";
import { LineCollector } from "../helpers/inProcess.js";
import { CLIENTS, signIn, startOidcServer, type OidcServer } from "../helpers/oidcServer.js";

/**
 * The library door, end to end against a real authorization server (oidc-provider) on
 * 127.0.0.1, signed in through its own login and consent pages with plain HTTP requests.
 */
let server: OidcServer;
beforeAll(async () => {
  server = await startOidcServer();
});
afterAll(() => server.close());

const allSecrets = Object.values(CLIENTS).map((c) => c.client_secret);

function connector(clientAuthentication: "client_secret_post" | "client_secret_basic" = "client_secret_post") {
  const auth = defineOAuth2({
    provider: "flowcap-test",
    authorizeUrl: server.authorizeUrl,
    tokenUrl: server.tokenUrl,
    // openid + offline_access with prompt=consent: oidc-provider then issues a refresh token.
    scopes: ["openid", "offline_access"],
    authorizeParams: { prompt: "consent" },
    credentials: "rotating",
    clientAuthentication,
  });
  const configSchema = { type: "object", properties: { credentials: credentialsSchema(auth.credentials) }, required: ["credentials"] };
  return { oauth2: auth.oauth2, configSchema };
}

async function authorize(oauth2: OAuth2, client: { client_id: string; client_secret: string }) {
  return runLocalFlow({ oauth2, clientId: client.client_id, clientSecret: client.client_secret, port: 0, onAuthorizeUrl: async (url) => void (await signIn(url, { followToClient: true })) });
}

describe("OAuth against oidc-provider", () => {
  it("the test connector's spec lints clean", () => {
    const { oauth2, configSchema } = connector();
    expect(lintOAuth({ oauth2, configSchema })).toEqual([]);
  });

  it("authorization code + PKCE (checked by the server) + state, then the response map", async () => {
    const { oauth2 } = connector();
    const result = await authorize(oauth2, CLIENTS.post);
    expect(Object.keys(result.mapped).sort()).toEqual(["access_token", "access_token_expires_at", "refresh_token"]);
    expect(result.responseKeys).toEqual(expect.arrayContaining(["access_token", "refresh_token", "expires_in", "id_token", "token_type", "scope"]));
    expect(result.redirectParams.iss).toBe(server.issuer);
    expect(Date.parse(result.mapped.access_token_expires_at as string) - Date.now()).toBeGreaterThan(590_000);
    const info = await server.introspect(result.mapped.access_token as string);
    expect(info).toMatchObject({ active: true, client_id: CLIENTS.post.client_id, sub: "alice" });
    // The authorize request carried an S256 challenge and the state; no secret ever went in a URL.
    const authRequest = new URL(server.requests.find((r) => r.url.startsWith("/auth?"))!.url, server.issuer);
    expect(authRequest.searchParams.get("code_challenge_method")).toBe("S256");
    expect(authRequest.searchParams.get("state")).toMatch(/^[A-Za-z0-9]{40}$/);
    for (const r of server.requests) for (const secret of allSecrets) expect(r.url).not.toContain(secret);
  });

  it("the server refuses a code exchanged with the wrong PKCE verifier", async () => {
    const { oauth2 } = connector();
    const wrong = { ...oauth2, accessTokenBody: oauth2.accessTokenBody!.replace("{{#urlencode}}{{{ code_verifier }}}{{/urlencode}}", "x".repeat(43)) };
    await expect(authorize(wrong, CLIENTS.post)).rejects.toThrow(/refused the code with HTTP 400: invalid_grant: grant request is invalid/);
  });

  it("reports the provider's error redirect: no PKCE", async () => {
    const { oauth2 } = connector();
    const noPkce = { ...oauth2, authUrlTemplate: oauth2.authUrlTemplate.replace(/&code_challenge=.*$/, "") };
    await expect(authorize(noPkce, CLIENTS.post)).rejects.toMatchObject({ code: "OAUTH_FLOW", error: "invalid_request", message: "the provider refused the authorization: invalid_request: Authorization Server policy requires PKCE to be used for this request" });
  });

  it("reports the provider's error redirect: the user declines consent", async () => {
    const { oauth2 } = connector();
    await expect(
      runLocalFlow({ oauth2, clientId: CLIENTS.post.client_id, clientSecret: CLIENTS.post.client_secret, port: 0, onAuthorizeUrl: async (url) => void (await signIn(url, { followToClient: true, deny: true })) }),
    ).rejects.toMatchObject({ error: "access_denied", message: expect.stringMatching(/^the provider refused the authorization: access_denied/) });
  });

  it("rejects a redirect whose state was changed, before any exchange", async () => {
    const { oauth2 } = connector();
    const before = server.requests.filter((r) => r.url === "/token").length;
    await expect(
      runLocalFlow({
        oauth2,
        clientId: CLIENTS.post.client_id,
        clientSecret: CLIENTS.post.client_secret,
        port: 0,
        onAuthorizeUrl: async (url) => {
          const { redirect } = await signIn(url);
          redirect.searchParams.set("state", "A".repeat(40));
          await fetch(redirect);
        },
      }),
    ).rejects.toThrow(/^the redirect's state does not match the one this flow sent/);
    expect(server.requests.filter((r) => r.url === "/token").length).toBe(before);
  });

  it("refreshes with rotation: the new refresh token is persisted (configUpdate) before use, the old one is dead", async () => {
    const { oauth2, configSchema } = connector("client_secret_basic");
    const { mapped } = await authorize(oauth2, CLIENTS.basic);
    const credentials = buildCredentials(configSchema, mapped, { clientId: CLIENTS.basic.client_id, clientSecret: CLIENTS.basic.client_secret }) as OAuth2Credentials;
    expect(credentials.credentials_title).toBe("OAuth Credentials");

    // Estuary's encryption service, stood in for on 127.0.0.1.
    const encrypted: { config: { credentials: Record<string, string> } }[] = [];
    const encryption = createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        encrypted.push(JSON.parse(body));
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ credentials: { refresh_token: "ENC[...]" }, sops: {} }));
      });
    });
    await new Promise<void>((r) => encryption.listen(0, "127.0.0.1", r));
    const stream = new PassThrough();
    const logs = new LineCollector();
    stream.on("data", (c: Buffer) => logs.push(c));
    const log = createLogger({ stream, level: "debug" });
    const config = { credentials };
    const events: string[] = [];
    const persist = persistWithConfigUpdate({ log, config, configSchema, env: { ENCRYPTION_URL: `http://127.0.0.1:${(encryption.address() as AddressInfo).port}/` } });
    const source = createOAuth2TokenSource({
      credentials,
      oauth2,
      log,
      onRotate: async (c) => {
        events.push(`persist ${c.refresh_token === credentials.refresh_token ? "old" : "new"}`);
        await persist(c);
      },
    });
    try {
      // The stored access token is fresh: no request.
      expect((await source.getToken()).accessToken).toBe(credentials.access_token);
      const first = await source.refresh();
      events.push("token");
      expect(events).toEqual(["persist new", "token"]);
      const rotated = source.credentials.refresh_token!;
      expect(rotated).not.toBe(credentials.refresh_token);
      expect(encrypted.at(-1)!.config.credentials.refresh_token).toBe(rotated);
      expect(config.credentials.refresh_token).toBe(rotated);
      expect((await server.introspect(first.accessToken)).active).toBe(true);

      // Rotating again works with the persisted token ...
      const second = await source.refresh();
      expect(second.accessToken).not.toBe(first.accessToken);
      // ... and the replaced one is refused: a user error telling to re-authorize.
      const stale = createOAuth2TokenSource({ credentials: { ...credentials, refresh_token: rotated, access_token: undefined }, oauth2 });
      await expect(stale.getToken()).rejects.toMatchObject({ code: "OAUTH_REAUTHORIZE", userFacing: true, message: expect.stringMatching(/invalid_grant.*Re-authorize the capture/) });

      // The config update event went out, and no token or secret reached a log line.
      expect(logs.json.filter((l) => (l.fields as { eventType?: string }).eventType === "configUpdate")).toHaveLength(2);
      const text = logs.lines.join("\n");
      for (const secret of [CLIENTS.basic.client_secret, rotated, source.credentials.refresh_token!, first.accessToken, second.accessToken]) expect(text).not.toContain(secret);
    } finally {
      encryption.close();
    }
  });

  it("client credentials: a token for a service client, used through the HTTP client", async () => {
    const source = createOAuth2TokenSource({ credentials: { ...CLIENTS.service }, tokenUrl: server.tokenUrl, clientAuthentication: "client_secret_basic" });
    const token = await source.getToken();
    expect(token.tokenType).toBe("Bearer");
    expect(await server.introspect(token.accessToken)).toMatchObject({ active: true, client_id: CLIENTS.service.client_id });
    // The userinfo endpoint refuses a client-credentials token; what matters is the header that reached it.
    const client = createHttpClient({ tokenSource: source, maxAttempts: 1 });
    const response = await client.request(`${server.issuer}/me`, { acceptStatus: () => true });
    expect(response.status).toBe(401);
    for (const r of server.requests) expect(r.url).not.toContain(CLIENTS.service.client_secret);
  });

  it("a wrong client secret is a user error naming the credentials", async () => {
    const source = createOAuth2TokenSource({ credentials: { client_id: CLIENTS.service.client_id, client_secret: "wrong" }, tokenUrl: server.tokenUrl, clientAuthentication: "client_secret_basic" });
    await expect(source.getToken()).rejects.toMatchObject({ userFacing: true, message: expect.stringMatching(/^The token endpoint refused the client credentials \(invalid_client/) });
  });
});
