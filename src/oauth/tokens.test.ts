import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { logSink } from "../../test/helpers/logs.js";
import { createHttpClient } from "../sdk/index.js";
import { oauth2Providers } from "./providers/presets.js";
import { createOAuth2TokenSource, persistWithConfigUpdate, type OAuth2Credentials } from "./tokens.js";

interface Seen {
  url: string;
  headers: IncomingMessage["headers"];
  form: Record<string, string>;
}

/** A token endpoint on 127.0.0.1, scripted per test, that records what it receives. */
let respond: (form: Record<string, string>, n: number, req: IncomingMessage, res: ServerResponse) => void = () => {};
const seen: Seen[] = [];
const encrypted: unknown[] = [];
const server = createServer((req, res) => {
  let body = "";
  req.on("data", (c) => (body += c));
  req.on("end", () => {
    if (req.url === "/encrypt") {
      const { config } = JSON.parse(body) as { config: { credentials: Record<string, unknown> } };
      encrypted.push(config);
      const enc = { ...config, credentials: Object.fromEntries(Object.entries(config.credentials).map(([k, v]) => [k, k === "credentials_title" ? v : `ENC[${k}]`])) };
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(enc));
      return;
    }
    const form = Object.fromEntries(new URLSearchParams(body));
    seen.push({ url: req.url!, headers: req.headers, form });
    respond(form, seen.length, req, res);
  });
});
let base = "";
const json = (res: ServerResponse, status: number, body: unknown) => res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));

beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(() => {
  seen.length = 0;
  encrypted.length = 0;
});

const creds = (extra: Partial<OAuth2Credentials> = {}): OAuth2Credentials => ({ client_id: "cid", client_secret: "csecret-123", refresh_token: "rt-1", ...extra });
const fast = { retryBaseDelayMs: 5, retryMaxDelayMs: 10 };


describe("createOAuth2TokenSource", () => {
  it("exchanges the refresh token (client secret in the form) and caches the token until 75% of its lifetime", async () => {
    let clock = 1_000_000;
    respond = (_f, n, _r, res) => json(res, 200, { access_token: `at-${n}`, token_type: "bearer", expires_in: 100 });
    const source = createOAuth2TokenSource({ credentials: creds(), tokenUrl: `${base}/token`, now: () => clock, http: fast });
    const first = await source.getToken();
    expect(first).toEqual({ accessToken: "at-1", tokenType: "Bearer", expiresAt: new Date(1_000_000 + 100_000) });
    expect(seen[0]!.form).toEqual({ grant_type: "refresh_token", refresh_token: "rt-1", client_id: "cid", client_secret: "csecret-123" });
    expect(seen[0]!.headers.authorization).toBeUndefined();
    expect(seen[0]!.url).toBe("/token");
    clock += 74_000;
    expect((await source.getToken()).accessToken).toBe("at-1");
    clock += 2_000;
    expect((await source.getToken()).accessToken).toBe("at-2");
    expect(seen).toHaveLength(2);
  });

  it("authenticates with a Basic header when the spec's templates do, and renders the token URL with the config", async () => {
    respond = (_f, _n, _r, res) => json(res, 200, { access_token: "at", expires_in: 3600 });
    const oauth2 = {
      accessTokenUrlTemplate: `${base}/{{#urlencode}}{{{ config.tenant }}}{{/urlencode}}/token?client={{{ client_id }}}&leak={{{ client_secret }}}`,
      accessTokenHeaders: { authorization: "Basic {{#basicauth}}{{{ client_id }}}:{{{ client_secret }}}{{/basicauth}}" },
    };
    await createOAuth2TokenSource({ credentials: creds(), oauth2, config: { tenant: "t 1" }, http: fast }).getToken();
    expect(seen[0]!.url).toBe("/t%201/token?client=cid&leak=");
    expect(seen[0]!.headers.authorization).toBe("Basic " + Buffer.from("cid:csecret-123").toString("base64"));
    expect(seen[0]!.form).toEqual({ grant_type: "refresh_token", refresh_token: "rt-1" });
  });

  it("makes one request however many callers ask at once", async () => {
    respond = (_f, _n, _r, res) => setTimeout(() => json(res, 200, { access_token: "shared", expires_in: 3600 }), 50);
    const source = createOAuth2TokenSource({ credentials: creds(), tokenUrl: `${base}/token`, http: fast });
    const tokens = await Promise.all(Array.from({ length: 20 }, () => source.getToken()));
    expect(new Set(tokens.map((t) => t.accessToken))).toEqual(new Set(["shared"]));
    expect(seen).toHaveLength(1);
  });

  it("lets one caller give up on a shared refresh without cancelling it for the others", async () => {
    respond = (_f, _n, _r, res) => setTimeout(() => json(res, 200, { access_token: "shared", expires_in: 3600 }), 100);
    const source = createOAuth2TokenSource({ credentials: creds(), tokenUrl: `${base}/token`, http: fast });
    const impatient = new AbortController();
    const first = source.getToken({ signal: impatient.signal });
    const second = source.getToken({ signal: new AbortController().signal });
    setTimeout(() => impatient.abort(), 20);
    await expect(first).rejects.toMatchObject({ code: "STOPPED" });
    expect((await second).accessToken).toBe("shared");
    expect(seen).toHaveLength(1);
  });

  it("retries a dropped connection and a 503", async () => {
    respond = (_f, n, req, res) => (n === 1 ? req.socket.destroy() : n === 2 ? res.writeHead(503).end() : json(res, 200, { access_token: "ok", expires_in: 60 }));
    expect((await createOAuth2TokenSource({ credentials: creds(), tokenUrl: `${base}/token`, http: fast }).getToken()).accessToken).toBe("ok");
    expect(seen).toHaveLength(3);
  });

  it("turns invalid_grant into a user error that says to re-authorize, without retrying", async () => {
    respond = (_f, _n, _r, res) => json(res, 400, { error: "invalid_grant", error_description: "Token has been expired or revoked." });
    const error = (await createOAuth2TokenSource({ credentials: creds(), tokenUrl: `${base}/token`, http: fast })
      .getToken()
      .catch((e: unknown) => e)) as { code: string; userFacing: boolean; message: string; error: string };
    expect(error).toMatchObject({ code: "OAUTH_REAUTHORIZE", userFacing: true, error: "invalid_grant" });
    expect(error.message).toBe(
      "The OAuth refresh token was refused (invalid_grant: Token has been expired or revoked.): it was revoked, expired or already used. Re-authorize the capture: sign in again from its OAuth button in Flow (or run `flowcap oauth --write` locally).",
    );
    expect(seen).toHaveLength(1);
  });

  it("says which credentials to check on invalid_client", async () => {
    respond = (_f, _n, _r, res) => json(res, 401, { error: "invalid_client" });
    await expect(createOAuth2TokenSource({ credentials: creds(), tokenUrl: `${base}/token`, http: fast }).getToken()).rejects.toMatchObject({
      code: "OAUTH_TOKEN",
      userFacing: true,
      message: expect.stringMatching(/check credentials\.client_id and credentials\.client_secret/),
    });
  });

  it("reports a token endpoint that answers HTML", async () => {
    respond = (_f, _n, _r, res) => res.writeHead(200, { "content-type": "text/html" }).end("<html>sign in</html>");
    await expect(createOAuth2TokenSource({ credentials: creds(), tokenUrl: `${base}/token`, http: fast }).getToken()).rejects.toThrow(
      /the token endpoint answered HTTP 200 with a body that is not JSON \(text\/html\): <html>sign in/,
    );
  });

  it("persists a rotated refresh token before handing out the new access token, then uses it", async () => {
    respond = (form, n, _r, res) => json(res, 200, { access_token: `at-${n}`, refresh_token: `rt-${n + 1}`, expires_in: 1 });
    const events: string[] = [];
    const source = createOAuth2TokenSource({
      credentials: creds({ credentials_title: "OAuth Credentials" }),
      tokenUrl: `${base}/token`,
      http: fast,
      refreshAtLifetimeFraction: 0,
      onRotate: async (c) => {
        events.push(`persist start ${c.refresh_token}`);
        await new Promise((r) => setTimeout(r, 30));
        events.push(`persist done ${c.refresh_token}`);
      },
    });
    const t1 = await source.getToken();
    events.push(`got ${t1.accessToken}`);
    const t2 = await source.getToken();
    events.push(`got ${t2.accessToken}`);
    expect(events).toEqual(["persist start rt-2", "persist done rt-2", "got at-1", "persist start rt-3", "persist done rt-3", "got at-2"]);
    expect(seen.map((s) => s.form.refresh_token)).toEqual(["rt-1", "rt-2"]);
    expect(source.credentials).toEqual({ client_id: "cid", client_secret: "csecret-123", refresh_token: "rt-3", credentials_title: "OAuth Credentials" });
  });

  it("reads a refresh response through refreshTokenResponseMap: nested token, rotated refresh token, expiry date, and the mapped fields persisted", async () => {
    const clock = 2_000_000_000_000;
    respond = (_f, n, _r, res) => json(res, 200, { data: { token: `at-${n}`, renew: `rt-${n + 1}` }, ttl: 120 });
    const persisted: OAuth2Credentials[] = [];
    const source = createOAuth2TokenSource({
      credentials: creds({ access_token: "", token_expiry_date: "" }),
      tokenUrl: `${base}/token`,
      http: fast,
      now: () => clock,
      oauth2: {
        accessTokenUrlTemplate: `${base}/token`,
        refreshTokenResponseMap: { access_token: "/data/token", refresh_token: "/data/renew", token_expiry_date: "{{#now_plus}}{{ ttl }}{{/now_plus}}" },
      },
      onRotate: async (c) => void persisted.push(c),
    });
    const token = await source.getToken();
    expect(token).toEqual({ accessToken: "at-1", tokenType: "Bearer", expiresAt: new Date(clock + 120_000) });
    expect(persisted).toEqual([{ client_id: "cid", client_secret: "csecret-123", refresh_token: "rt-2", access_token: "at-1", token_expiry_date: new Date(clock + 120_000).toISOString() }]);
  });

  it("fails clearly when refreshTokenResponseMap finds no access token in the response", async () => {
    respond = (_f, _n, _r, res) => json(res, 200, { access_token: "at-standard-place" });
    const source = createOAuth2TokenSource({ credentials: creds(), tokenUrl: `${base}/token`, http: fast, oauth2: { accessTokenUrlTemplate: `${base}/token`, refreshTokenResponseMap: { access_token: "/data/token" } } });
    await expect(source.getToken()).rejects.toThrow(/without an access_token/);
  });

  it("keeps a rotated refresh token it cannot save yet, and hands out the new access token only once it is saved", async () => {
    respond = (_f, n, _r, res) => json(res, 200, { access_token: `at-${n}`, refresh_token: `rt-${n + 1}`, expires_in: 3600 });
    const saves: { at: number; refreshToken: string | undefined }[] = [];
    const { log, lines } = logSink();
    const source = createOAuth2TokenSource({
      credentials: creds(),
      tokenUrl: `${base}/token`,
      http: fast,
      log,
      rotationSave: { retryBaseDelayMs: 20 },
      onRotate: async (c) => {
        saves.push({ at: Date.now(), refreshToken: c.refresh_token });
        if (saves.length < 3) throw new Error("encryption service down");
      },
    });
    // No other token to hand out: the caller waits while saving is retried with backoff.
    expect((await source.getToken()).accessToken).toBe("at-1");
    expect(saves.map((s) => s.refreshToken)).toEqual(["rt-2", "rt-2", "rt-2"]);
    expect(saves[1]!.at - saves[0]!.at).toBeGreaterThanOrEqual(9);
    expect(seen).toHaveLength(1);
    expect(lines.json.map((l) => String(l.message)).filter((m) => m.includes("saving the new one failed"))).toEqual([
      expect.stringMatching(/^the provider rotated the OAuth refresh token but saving the new one failed \(attempt 1 of 5: encryption service down\); it is kept for refreshes, and the new access token is held back until it is saved \(next try in \d+ ms\)$/),
      expect.stringMatching(/^the provider rotated the OAuth refresh token but saving the new one failed \(attempt 2 of 5: encryption service down\)/),
    ]);
    // The next refresh uses the rotated token.
    await source.refresh();
    expect(seen.map((s) => s.form.refresh_token)).toEqual(["rt-1", "rt-2"]);
  });

  it("keeps using the current token while a rotated one is unsaved, and retries the save on a later getToken", async () => {
    let clock = Date.parse("2024-06-01T00:00:00Z");
    let saveWorks = false;
    respond = (_f, n, _r, res) => json(res, 200, { access_token: `at-${n}`, refresh_token: `rt-${n + 1}`, expires_in: 3600 });
    const saved: (string | undefined)[] = [];
    const source = createOAuth2TokenSource({
      credentials: creds({ access_token: "at-0", access_token_expires_at: "2024-06-01T00:10:00Z" }),
      tokenUrl: `${base}/token`,
      http: fast,
      now: () => clock,
      rotationSave: { retryBaseDelayMs: 1000 },
      onRotate: async (c) => {
        if (!saveWorks) throw new Error("encryption service down");
        saved.push(c.refresh_token);
      },
    });
    clock += 6 * 60_000; // past the stored token's refresh point, 4 minutes before it expires
    expect((await source.getToken()).accessToken).toBe("at-0");
    expect(source.credentials.refresh_token).toBe("rt-2");
    expect((await source.getToken()).accessToken).toBe("at-0");
    saveWorks = true;
    clock += 31_000;
    expect((await source.getToken()).accessToken).toBe("at-1");
    expect(saved).toEqual(["rt-2"]);
    // Saving was retried; the token endpoint was not asked again (rt-1 is spent).
    expect(seen.map((s) => s.form.refresh_token)).toEqual(["rt-1"]);
  });

  it("fails with what to do only after the last save attempt, and still keeps the rotated token", async () => {
    respond = (_f, n, _r, res) => json(res, 200, { access_token: `at-${n}`, refresh_token: `rt-${n + 1}`, expires_in: 3600 });
    let fail = true;
    let attempts = 0;
    const source = createOAuth2TokenSource({
      credentials: creds(),
      tokenUrl: `${base}/token`,
      http: fast,
      rotationSave: { attempts: 3, retryBaseDelayMs: 2 },
      onRotate: async () => {
        attempts++;
        if (fail) throw new Error("encryption service down");
      },
    });
    const error = (await source.getToken().catch((e: unknown) => e)) as { code: string; userFacing: boolean; message: string };
    expect(attempts).toBe(3);
    expect(error).toMatchObject({ code: "OAUTH_REAUTHORIZE", userFacing: true });
    expect(error.message).toBe(
      "The provider rotated the OAuth refresh token, but saving the new one to the endpoint config failed 3 times (last: encryption service down). The old refresh token no longer works, so once this task restarts the capture must be re-authorized: sign in again from its OAuth button in Flow (or run `flowcap oauth --write` locally).",
    );
    expect(source.credentials.refresh_token).toBe("rt-2");
    // While the process lives, a later getToken tries again.
    fail = false;
    expect((await source.getToken()).accessToken).toBe("at-1");
    expect(seen).toHaveLength(1);
  });

  it("emits Flow's configUpdate with the encrypted config, and never logs a token", async () => {
    respond = (_f, _n, _r, res) => json(res, 200, { access_token: "at-secret-9", refresh_token: "rt-secret-2", expires_in: 3600 });
    const { log, lines } = logSink();
    const config = { start: "2024", credentials: creds({ credentials_title: "OAuth Credentials", access_token: "old", access_token_expires_at: "2000-01-01T00:00:00Z" }) };
    const configSchema = { type: "object", properties: { credentials: oauth2Providers.google().credentials } };
    const source = createOAuth2TokenSource({
      credentials: config.credentials,
      tokenUrl: `${base}/token`,
      http: fast,
      log,
      onRotate: persistWithConfigUpdate({ log, config, configSchema, encryptionUrl: `${base}/encrypt` }),
      now: () => Date.parse("2024-06-01T00:00:00Z"),
    });
    const token = await source.getToken();
    log.info(`using ${token.accessToken} from ${source.credentials.refresh_token}`);
    // The encryption service got the whole config with the new credentials, keys sorted.
    expect(encrypted).toEqual([
      {
        credentials: {
          access_token: "at-secret-9",
          access_token_expires_at: "2024-06-01T01:00:00.000Z",
          client_id: "cid",
          client_secret: "csecret-123",
          credentials_title: "OAuth Credentials",
          refresh_token: "rt-secret-2",
        },
        start: "2024",
      },
    ]);
    const update = lines.json.find((l) => (l.fields as { eventType?: string }).eventType === "configUpdate") as { fields: { config: { credentials: Record<string, string> } } };
    expect(update.fields.config.credentials.refresh_token).toBe("ENC[refresh_token]");
    expect(lines.lines.join("\n")).not.toMatch(/at-secret-9|rt-secret-2|csecret-123/);
    expect(lines.json.at(-1)!.message).toBe("using [redacted] from [redacted]");
    expect(config.credentials.refresh_token).toBe("rt-secret-2");
  });

  it("leaves the configUpdate's config unredacted where a plain field equals a secret (user: postgres, client_secret: postgres)", async () => {
    respond = (_f, _n, _r, res) => json(res, 200, { access_token: "at-secret-10", refresh_token: "rt-secret-3", expires_in: 3600 });
    const { log, lines } = logSink();
    const config = { user: "postgres", credentials: creds({ client_secret: "postgres" }) };
    const configSchema = { type: "object", properties: { user: { type: "string" }, credentials: oauth2Providers.google().credentials } };
    log.redactor.add(["postgres"]);
    const source = createOAuth2TokenSource({ credentials: config.credentials, tokenUrl: `${base}/token`, http: fast, log, onRotate: persistWithConfigUpdate({ log, config, configSchema, encryptionUrl: `${base}/encrypt` }) });
    await source.getToken();
    const update = lines.json.find((l) => (l.fields as { eventType?: string }).eventType === "configUpdate") as { fields: { config: { user: string; credentials: Record<string, string> } } };
    expect(update.fields.config.user).toBe("postgres");
    expect(update.fields.config.credentials.client_secret).toBe("ENC[client_secret]");
  });

  it("uses a stored access token while it has more than 5 minutes left", async () => {
    respond = (_f, _n, _r, res) => json(res, 200, { access_token: "fresh", expires_in: 3600 });
    const now = Date.parse("2024-06-01T00:00:00Z");
    const stored = creds({ access_token: "stored", access_token_expires_at: "2024-06-01T00:30:00Z" });
    expect((await createOAuth2TokenSource({ credentials: stored, tokenUrl: `${base}/token`, now: () => now, http: fast }).getToken()).accessToken).toBe("stored");
    expect(seen).toHaveLength(0);
    const nearlyExpired = creds({ access_token: "stored", access_token_expires_at: "2024-06-01T00:04:00Z" });
    expect((await createOAuth2TokenSource({ credentials: nearlyExpired, tokenUrl: `${base}/token`, now: () => now, http: fast }).getToken()).accessToken).toBe("fresh");
  });

  it("runs the client-credentials grant when there is no refresh token", async () => {
    respond = (_f, _n, _r, res) => json(res, 200, { access_token: "cc", expires_in: 600, token_type: "Bearer" });
    const source = createOAuth2TokenSource({ credentials: { client_id: "svc", client_secret: "svc-secret" }, tokenUrl: `${base}/token`, scope: "read write", clientAuthentication: "client_secret_basic", http: fast });
    expect((await source.getToken()).accessToken).toBe("cc");
    expect(seen[0]!.form).toEqual({ grant_type: "client_credentials", scope: "read write" });
    expect(seen[0]!.headers.authorization).toBe("Basic " + Buffer.from("svc:svc-secret").toString("base64"));
  });

  it("refreshes after invalidate (an API's 401) and through the HTTP client", async () => {
    let n = 0;
    respond = (_f, _n, req, res) => {
      if (req.url === "/api") return req.headers.authorization === "Bearer at-2" ? res.end("data") : res.writeHead(401).end();
      json(res, 200, { access_token: `at-${++n}`, expires_in: 3600 });
    };
    const source = createOAuth2TokenSource({ credentials: creds(), tokenUrl: `${base}/token`, http: fast });
    const client = createHttpClient({ tokenSource: source, ...fast });
    expect((await client.request(`${base}/api`)).text()).toBe("data");
    expect(seen.map((s) => s.url)).toEqual(["/token", "/api", "/token", "/api"]);
  });

  it("keeps using a valid token when a refresh fails for a passing reason", async () => {
    let clock = 0;
    let fail = false;
    respond = (_f, n, _r, res) => (fail ? res.writeHead(500).end() : json(res, 200, { access_token: `at-${n}`, expires_in: 1000 }));
    const { log, lines } = logSink();
    const source = createOAuth2TokenSource({ credentials: creds(), tokenUrl: `${base}/token`, now: () => clock, log, http: { ...fast, maxAttempts: 2 } });
    expect((await source.getToken()).accessToken).toBe("at-1");
    clock = 800_000;
    fail = true;
    expect((await source.getToken()).accessToken).toBe("at-1");
    expect(lines.json.some((l) => String(l.message).startsWith("refreshing the OAuth access token failed; using the current one"))).toBe(true);
    clock = 990_000;
    await expect(source.getToken()).rejects.toThrow(/could not get an access token from the token endpoint: POST .* answered HTTP 500/);
  });

  it("refuses incomplete credentials with a user error", () => {
    expect(() => createOAuth2TokenSource({ credentials: { client_id: "x", client_secret: "" }, tokenUrl: "http://t" })).toThrow(/credentials\.client_secret is missing/);
    expect(() => createOAuth2TokenSource({ credentials: { client_id: "x", client_secret: "y" }, tokenUrl: "http://t", grant: "refresh_token" })).toThrow(/credentials\.refresh_token is missing/);
  });
});
