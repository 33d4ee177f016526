import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { logSink } from "../../../test/helpers/logs.js";
import { startHttpFixtureServer, type HttpFixtureServer } from "../../testing/httpFixtureServer.js";
import { apiKeyAuth, basicAuth, bearerAuth, oauth2Auth, type HttpAuth } from "./auth.js";
import { createHttpClient } from "./client.js";
import type { AccessToken, TokenSource } from "./tokenSource.js";

let api: HttpFixtureServer;
beforeAll(async () => {
  api = await startHttpFixtureServer();
  api.route("GET", "/ok", (req) => ({ json: { authorization: req.headers.authorization ?? null, key: req.query.get("api_key"), header: req.headers["x-api-key"] ?? null } }));
  api.route("GET", "/denied", { status: 401, json: { error: "bad credentials" } });
  api.route("GET", "/broken", { status: 500, json: { error: "down" } });
  api.route("GET", "/slow", (_req, res) => {
    res.writeHead(200);
    res.write("[");
    // Never finishes: the deadline must end it.
  });
});
afterAll(() => api.close());

/** Every form a secret could leak in: as is, URL-encoded, and (for Basic) base64. */
function forms(secret: string): string[] {
  return [secret, encodeURIComponent(secret), Buffer.from(secret).toString("base64")];
}

/** Drives one client through success, 401, 5xx retries, a refused connection and a deadline, logging everything at debug. */
async function exercise(auth: HttpAuth) {
  const { log, lines } = logSink();
  const client = createHttpClient({ baseUrl: api.url, auth, log, retryBaseDelayMs: 1, retryMaxDelayMs: 2, maxAttempts: 2 });
  const errors: string[] = [];
  const body = await client.getJson("/ok");
  // A careless line: /ok echoes the credentials it received. The logger's redaction must catch them.
  log.info("the API answered", { body });
  for (const path of ["/denied", "/broken"]) await client.request(path).catch((e: Error) => errors.push(e.message, JSON.stringify(e)));
  await client.request("/slow", { deadlineMs: 300, maxAttempts: 1 }).catch((e: Error) => errors.push(e.message));
  // A port nothing listens on.
  await createHttpClient({ auth, log, maxAttempts: 1 })
    .request("http://127.0.0.1:9/nothing")
    .catch((e: Error) => errors.push(e.message));
  log.error("the capture failed", { error: new Error(errors.join(" | ")) });
  return { body, text: lines.lines.join("\n"), errors };
}

describe("auth helpers", () => {
  it("API key in a header: sent, and absent from every log line and error", async () => {
    const key = "sk_live_4f3a9b2c1d";
    const { body, text, errors } = await exercise(apiKeyAuth(key, { header: "X-API-Key" }));
    expect(body).toMatchObject({ header: key });
    expect(text).toMatch(/GET http:\/\/127\.0\.0\.1:\d+\/broken answered HTTP 500/);
    for (const f of forms(key)) {
      expect(text).not.toContain(f);
      expect(errors.join()).not.toContain(f);
    }
  });

  it("API key in the query (a name redactUrl would not guess): sent, and no shown URL carries it", async () => {
    const key = "q-7e6d5c4b3a";
    const { body, text, errors } = await exercise(apiKeyAuth(key, { query: "api_key" }));
    expect(body).toMatchObject({ key });
    expect(errors.join()).toMatch(/GET http:\/\/127\.0\.0\.1:\d+\/denied answered HTTP 401/);
    for (const f of forms(key)) {
      expect(text).not.toContain(f);
      expect(errors.join()).not.toContain(f);
    }
    const custom = apiKeyAuth("zz-custom-secret", { query: "x" });
    const err = (await createHttpClient({ baseUrl: api.url, auth: custom }).request("/denied").catch((e: Error) => e)) as Error;
    expect(err.message).toMatch(/\/denied answered HTTP 401/);
    expect(err.message).not.toContain("zz-custom-secret");
  });

  it("bearer token and an API key with a scheme prefix", async () => {
    const token = "ghp_0123456789abcdefTOKEN";
    const { body, text, errors } = await exercise(bearerAuth(token));
    expect(body).toMatchObject({ authorization: `Bearer ${token}` });
    for (const f of forms(token)) expect(text + errors.join()).not.toContain(f);
    const prefixed = await createHttpClient({ baseUrl: api.url, auth: apiKeyAuth("abc123", { header: "Authorization", prefix: "Token " }) }).getJson("/ok");
    expect(prefixed).toMatchObject({ authorization: "Token abc123" });
  });

  it("Basic: RFC 7617 encoding, password and encoded value never logged", async () => {
    const password = "p@ss:wörd!42";
    const { body, text, errors } = await exercise(basicAuth("ana", password));
    const encoded = Buffer.from(`ana:${password}`, "utf8").toString("base64");
    expect(body).toMatchObject({ authorization: `Basic ${encoded}` });
    for (const f of [...forms(password), encoded]) expect(text + errors.join()).not.toContain(f);
    expect(() => basicAuth("a:b", "x")).toThrow(/must not contain a colon/);
  });

  it("OAuth2 through a TokenSource: a rejected token is invalidated once and its successor used; neither is logged", async () => {
    let n = 0;
    const invalidated: string[] = [];
    const tokens: TokenSource = {
      getToken: async () => ({ accessToken: `oauth-access-token-${n}`, tokenType: "Bearer" }),
      invalidate: (t: AccessToken) => {
        invalidated.push(t.accessToken);
        n++;
      },
    };
    api.route("GET", "/me", (req) => (req.headers.authorization === "Bearer oauth-access-token-1" ? { json: { me: true } } : { status: 401 }));
    const { log, lines } = logSink();
    const client = createHttpClient({ baseUrl: api.url, auth: oauth2Auth(tokens), log });
    expect(await client.getJson("/me")).toEqual({ me: true });
    expect(invalidated).toEqual(["oauth-access-token-0"]);
    await exercise(oauth2Auth(tokens)).then(({ text }) => expect(text).not.toMatch(/oauth-access-token/));
    expect(lines.lines.join("\n")).not.toMatch(/oauth-access-token/);
    expect(lines.lines.join("\n")).toMatch(/answered HTTP 401; retrying once with fresh credentials/);
  });

  it("withAuth: false sends no credentials", async () => {
    const client = createHttpClient({ baseUrl: api.url, auth: bearerAuth("secret-token-1") });
    expect(await client.getJson("/ok", { withAuth: false })).toMatchObject({ authorization: null });
  });

  it("refuses an empty key with a user-facing message", () => {
    expect(() => apiKeyAuth("", { header: "X-API-Key" })).toThrow(/the API key is empty: set it in the endpoint config/);
    expect(() => bearerAuth("")).toThrow(/the access token is empty/);
  });
});
