import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { logSink } from "../../../test/helpers/logs.js";
import { logFatal } from "../../runtime/index.js";
import { backoffDelayMs, createHttpClient, isRetryableNetworkError } from "./client.js";
import { createResponseCache } from "./responseCache.js";
import { parseRetryAfter } from "./rateLimitHeaders.js";
import { HttpStatusError, redactUrl } from "./errors.js";
import type { AccessToken, TokenSource } from "./tokenSource.js";

type Handler = (req: IncomingMessage, res: ServerResponse, body: string, hit: number) => void;

/** A real HTTP server on 127.0.0.1 whose behaviour each test scripts per path. */
const routes = new Map<string, Handler>();
const hits = new Map<string, number>();
const seen: { path: string; headers: IncomingMessage["headers"]; body: string; method: string }[] = [];
const server = createServer((req, res) => {
  let body = "";
  req.on("data", (c) => (body += c));
  req.on("end", () => {
    const path = new URL(req.url!, "http://x").pathname;
    const n = (hits.get(path) ?? 0) + 1;
    hits.set(path, n);
    seen.push({ path, headers: req.headers, body, method: req.method! });
    const handler = routes.get(path);
    if (!handler) res.writeHead(404).end("no route");
    else handler(req, res, body, n);
  });
});
let base = "";

beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(() => {
  routes.clear();
  hits.clear();
  seen.length = 0;
});

const fast = { retryBaseDelayMs: 5, retryMaxDelayMs: 20 };


describe("createHttpClient", () => {
  it("sends query, headers and JSON, resolves against the base URL, and parses JSON", async () => {
    routes.set("/api/items", (req, res, body) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ got: JSON.parse(body), q: req.url })));
    const client = createHttpClient({ baseUrl: base + "/api/", headers: { "X-Team": "a" } });
    const out = await client.postJson<{ got: unknown; q: string }>("items", { a: 1 }, { query: { page: 2, tag: ["x", "y"], skip: undefined } });
    expect(out).toEqual({ got: { a: 1 }, q: "/api/items?page=2&tag=x&tag=y" });
    expect(seen[0]!.headers["content-type"]).toBe("application/json");
    expect(seen[0]!.headers["x-team"]).toBe("a");
    expect(seen[0]!.headers["user-agent"]).toBe("flowcap");
  });

  it("sends a form body", async () => {
    routes.set("/form", (_req, res, body) => res.end(body));
    const response = await createHttpClient().request(base + "/form", { method: "POST", form: { a: "1 2", b: "&" } });
    expect(response.text()).toBe("a=1+2&b=%26");
    expect(seen[0]!.headers["content-type"]).toBe("application/x-www-form-urlencoded");
  });

  it("retries 5xx with backoff and returns the eventual success", async () => {
    routes.set("/flaky", (_req, res, _b, n) => (n < 3 ? res.writeHead(502).end("bad gateway") : res.end("ok")));
    const { log, lines } = logSink();
    const response = await createHttpClient({ ...fast, log }).request(base + "/flaky");
    expect(response.text()).toBe("ok");
    expect(hits.get("/flaky")).toBe(3);
    expect(lines.json.filter((l) => l.level === "warn").map((l) => l.message)).toEqual([
      expect.stringMatching(/^GET http:\/\/127\.0\.0\.1:\d+\/flaky answered HTTP 502; retrying in \d+ ms \(attempt 2 of 5\)$/),
      expect.stringMatching(/attempt 3 of 5/),
    ]);
  });

  it("gives up after maxAttempts with an HttpStatusError carrying status and body", async () => {
    routes.set("/down", (_req, res) => res.writeHead(500).end('{"error":"down"}'));
    const error = await createHttpClient({ ...fast, maxAttempts: 3 }).request(base + "/down").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpStatusError);
    expect((error as HttpStatusError).status).toBe(500);
    expect((error as HttpStatusError).bodyExcerpt).toBe('{"error":"down"}');
    expect(hits.get("/down")).toBe(3);
  });

  it("does not retry a 4xx, and shouldRetry can refuse a 5xx or accept another status", async () => {
    routes.set("/bad", (_req, res) => res.writeHead(400).end("bad query"));
    await expect(createHttpClient(fast).request(base + "/bad")).rejects.toThrow(/answered HTTP 400: bad query/);
    expect(hits.get("/bad")).toBe(1);

    routes.set("/boom", (_req, res) => res.writeHead(500).end());
    await expect(createHttpClient(fast).request(base + "/boom", { shouldRetry: () => false })).rejects.toThrow(/HTTP 500/);
    expect(hits.get("/boom")).toBe(1);

    routes.set("/conflict", (_req, res, _b, n) => (n === 1 ? res.writeHead(409).end() : res.end("done")));
    const r = await createHttpClient(fast).request(base + "/conflict", { shouldRetry: ({ status }) => status === 409 });
    expect(r.text()).toBe("done");
  });

  it("lets acceptStatus turn a 404 into a result", async () => {
    const r = await createHttpClient(fast).request(base + "/nothing-here", { acceptStatus: (s) => s === 404 || s < 300 });
    expect(r.status).toBe(404);
  });

  it("honours Retry-After (seconds) on 429 and 503", async () => {
    routes.set("/slow-down", (_req, res, _b, n) => (n === 1 ? res.writeHead(429, { "retry-after": "1" }).end() : res.end("ok")));
    const started = Date.now();
    await createHttpClient({ ...fast, rateLimiter: false }).request(base + "/slow-down");
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);

    routes.set("/maint", (_req, res, _b, n) => (n === 1 ? res.writeHead(503, { "retry-after": "0" }).end() : res.end("ok")));
    expect((await createHttpClient(fast).request(base + "/maint")).text()).toBe("ok");
  });

  it("caps a huge Retry-After and says so", async () => {
    routes.set("/later", (_req, res, _b, n) => (n === 1 ? res.writeHead(429, { "retry-after": "86400" }).end() : res.end("ok")));
    const { log, lines } = logSink();
    await createHttpClient({ ...fast, log, maxRetryAfterMs: 50, rateLimiter: false }).request(base + "/later");
    expect(lines.json.find((l) => l.level === "warn")!.message).toMatch(/asked to retry after 86400 s; waiting 0 s instead/);
  });

  it("retries a connection the server drops, and a body that breaks off", async () => {
    routes.set("/drop", (req, res, _b, n) => (n === 1 ? req.socket.destroy() : res.end("ok")));
    expect((await createHttpClient(fast).request(base + "/drop")).text()).toBe("ok");
    expect(hits.get("/drop")).toBe(2);

    routes.set("/partial", (_req, res, _b, n) => {
      if (n === 1) {
        res.writeHead(200, { "content-length": "100" });
        res.write("only part");
        setTimeout(() => res.socket?.destroy(), 20);
      } else res.end("whole");
    });
    expect((await createHttpClient(fast).request(base + "/partial")).text()).toBe("whole");
  });

  it("fails clearly when nothing listens, after its attempts", async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const error = (await createHttpClient({ ...fast, maxAttempts: 2 })
      .request(`http://127.0.0.1:${port}/x?api_key=k-123`)
      .catch((e: unknown) => e)) as Error & { code: string };
    expect(error.code).toBe("HTTP_NETWORK");
    expect(error.message).toMatch(new RegExp(`^GET http://127\\.0\\.0\\.1:${port}/x\\?api_key=\\[redacted\\] failed after 2 attempts: ECONNREFUSED`));
  });

  it("times out a server that never answers, and retries", async () => {
    routes.set("/hang", (_req, res, _b, n) => (n === 1 ? undefined : res.end("late but fine")));
    const r = await createHttpClient({ ...fast, timeoutMs: 200 }).request(base + "/hang");
    expect(r.text()).toBe("late but fine");
    expect(hits.get("/hang")).toBe(2);
  });

  it("strips secrets from the URL in errors", async () => {
    routes.set("/secret", (_req, res) => res.writeHead(403).end("nope"));
    const error = (await createHttpClient(fast)
      .request(`http://user:pw@127.0.0.1:${new URL(base).port}/secret?client_secret=s3cr3t&access_token=t0k&page=2`)
      .catch((e: unknown) => e)) as HttpStatusError;
    expect(error.url).toBe(`${base}/secret?client_secret=[redacted]&access_token=[redacted]&page=2`);
    expect(error.message).not.toMatch(/s3cr3t|t0k|pw/);
    expect(error.userFacing).toBe(true);
    expect(error.message).toMatch(/check the configured credentials/);
  });

  it("keeps every form of a secret a server echoes (Basic credentials, form encoding, numbers) out of the task error", async () => {
    // A token endpoint that echoes what it was sent, as some do in their error bodies.
    routes.set("/token", (req, res, body) => res.writeHead(401, { "content-type": "application/json" }).end(JSON.stringify({ error: "invalid_client", authorization: req.headers.authorization, got: body })));
    const { log, lines } = logSink();
    // What serve() registers from a config whose client_secret and pin are marked secret.
    log.redactor.add(["my client/secret", 918273]);
    const basic = Buffer.from("a-client-id:my client/secret").toString("base64");
    const error = await createHttpClient(fast)
      .request(base + "/token", { method: "POST", headers: { authorization: `Basic ${basic}` }, form: { grant_type: "client_credentials", client_secret: "my client/secret", pin: "918273" } })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpStatusError);
    expect((error as HttpStatusError).bodyExcerpt).toContain(basic);
    logFatal(log, error);
    const taskError = lines.lines.at(-1)!;
    expect(JSON.parse(taskError)).toMatchObject({ level: "error", fields: { code: "HTTP_STATUS" } });
    for (const form of [basic.slice(16, 30), "my+client%2Fsecret", "my client/secret", "918273"]) expect(taskError, form).not.toContain(form);
    expect(taskError).toContain("[redacted]");
  });

  it("sends the token source's token and refreshes it once on a 401", async () => {
    let current = "t1";
    const invalidated: string[] = [];
    const tokens: TokenSource = {
      getToken: async () => ({ accessToken: current, tokenType: "Bearer" }),
      invalidate: (t: AccessToken) => {
        invalidated.push(t.accessToken);
        current = "t2";
      },
    };
    routes.set("/me", (req, res) => (req.headers.authorization === "Bearer t2" ? res.end("hi") : res.writeHead(401).end()));
    const client = createHttpClient({ ...fast, tokenSource: tokens });
    expect((await client.request(base + "/me")).text()).toBe("hi");
    expect(invalidated).toEqual(["t1"]);
    // withToken: false sends none.
    await client.request(base + "/me", { withToken: false, acceptStatus: () => true });
    expect(seen.at(-1)!.headers.authorization).toBeUndefined();
  });

  it("does not loop on a 401 that a fresh token does not fix", async () => {
    const tokens: TokenSource = { getToken: async () => ({ accessToken: "bad", tokenType: "Bearer" }), invalidate: () => {} };
    routes.set("/never", (_req, res) => res.writeHead(401).end());
    await expect(createHttpClient({ ...fast, tokenSource: tokens }).request(base + "/never")).rejects.toThrow(/HTTP 401/);
    expect(hits.get("/never")).toBe(2);
  });

  it("streams lines and JSON lines without buffering the body", async () => {
    routes.set("/ndjson", (_req, res) => {
      res.write('{"n":1}\n{"n":');
      setTimeout(() => res.end('2}\r\n\n{"n":3}'), 20);
    });
    const client = createHttpClient(fast);
    const values: unknown[] = [];
    for await (const v of client.jsonLines(base + "/ndjson")) values.push(v);
    expect(values).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    const lines: string[] = [];
    for await (const l of client.lines(base + "/ndjson")) lines.push(l);
    expect(lines).toEqual(['{"n":1}', '{"n":2}', "", '{"n":3}']);
  });

  it("reports a body that is not JSON with the URL and an excerpt", async () => {
    routes.set("/html", (_req, res) => res.writeHead(200, { "content-type": "text/html" }).end("<html>login</html>"));
    await expect(createHttpClient().getJson(base + "/html")).rejects.toThrow(/\/html answered HTTP 200 with a body that is not JSON \(text\/html\): <html>login/);
  });

  it("stops waiting when the session stops", async () => {
    routes.set("/wait", (_req, res) => res.writeHead(503, { "retry-after": "30" }).end());
    const controller = new AbortController();
    const pending = createHttpClient({ signal: controller.signal }).request(base + "/wait");
    setTimeout(() => controller.abort(), 100);
    const started = Date.now();
    await expect(pending).rejects.toMatchObject({ code: "STOPPED" });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("adapts to 429s through the rate limiter", async () => {
    let allowedAt = 0;
    // The server allows one request per 30 ms and answers 429 otherwise.
    routes.set("/quota", (_req, res) => {
      const now = Date.now();
      if (now < allowedAt) return res.writeHead(429).end();
      allowedAt = now + 30;
      res.end("ok");
    });
    const client = createHttpClient({ retryBaseDelayMs: 1, retryMaxDelayMs: 5, maxAttempts: 50 });
    const started = Date.now();
    for (let i = 0; i < 20; i++) await client.request(base + "/quota");
    const elapsed = Date.now() - started;
    const { total, throttled } = client.rateLimiter!.stats;
    process.stderr.write(`rate limiter: ${throttled} of ${total} responses were 429, interval ${client.rateLimiter!.currentIntervalMs.toFixed(1)} ms\n`);
    expect(total - throttled).toBe(20);
    expect(throttled).toBeLessThanOrEqual(2);
    expect(client.rateLimiter!.currentIntervalMs).toBeGreaterThan(20);
    expect(elapsed).toBeLessThan(2000);
  });
});

describe("helpers", () => {
  it("parses Retry-After as seconds or an HTTP date", () => {
    expect(parseRetryAfter("120")).toBe(120_000);
    expect(parseRetryAfter(["3"])).toBe(3000);
    expect(parseRetryAfter("Wed, 21 Oct 2015 07:28:10 GMT", Date.parse("Wed, 21 Oct 2015 07:28:00 GMT"))).toBe(10_000);
    expect(parseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT", Date.parse("Wed, 21 Oct 2015 07:29:00 GMT"))).toBe(0);
    expect(parseRetryAfter("soon")).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });

  it("backs off exponentially with jitter, capped", () => {
    for (let i = 0; i < 50; i++) {
      expect(backoffDelayMs(1, 100, 10_000)).toBeGreaterThanOrEqual(50);
      expect(backoffDelayMs(1, 100, 10_000)).toBeLessThanOrEqual(100);
      expect(backoffDelayMs(4, 100, 10_000)).toBeGreaterThanOrEqual(400);
      expect(backoffDelayMs(20, 100, 1000)).toBeLessThanOrEqual(1000);
    }
  });

  it("knows which network errors are worth retrying", () => {
    expect(isRetryableNetworkError(Object.assign(new Error("x"), { code: "ECONNRESET" }))).toBe(true);
    expect(isRetryableNetworkError(new Error("wrapped", { cause: Object.assign(new Error("y"), { code: "UND_ERR_SOCKET" }) }))).toBe(true);
    expect(isRetryableNetworkError(Object.assign(new Error("x"), { code: "ENOTFOUND" }))).toBe(false);
    expect(isRetryableNetworkError(Object.assign(new Error("aborted"), { name: "AbortError" }))).toBe(false);
  });

  it("redacts credentials in URLs and leaves the rest byte for byte", () => {
    expect(redactUrl("https://a:b@x.io/p?code=abc&state=s&redirect_uri=http%3A%2F%2Fl%2F&refresh_token=r")).toBe(
      "https://x.io/p?code=[redacted]&state=s&redirect_uri=http%3A%2F%2Fl%2F&refresh_token=[redacted]",
    );
    expect(redactUrl("https://x.io/p?APIKEY=1&key=2&sig=3&page=4&flag")).toBe("https://x.io/p?APIKEY=[redacted]&key=[redacted]&sig=[redacted]&page=4&flag");
    expect(redactUrl("not a url")).toBe("not a url");
  });
});

describe("deadline and idempotency", () => {
  it("ends a body that trickles one byte every 500 ms at the request's deadline, however alive it looks", async () => {
    routes.set("/trickle", (_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      const timer = setInterval(() => (res.destroyed ? clearInterval(timer) : res.write(" ")), 500);
      res.on("close", () => clearInterval(timer));
    });
    const started = Date.now();
    const error = (await createHttpClient({ ...fast, deadlineMs: 2000, maxAttempts: 1 })
      .request(base + "/trickle")
      .catch((e: unknown) => e)) as Error & { code: string };
    expect(error.code).toBe("TIMEOUT");
    expect(error.message).toMatch(/^GET http:\/\/127\.0\.0\.1:\d+\/trickle: no complete response within 2000 ms/);
    expect(Date.now() - started).toBeLessThan(6000);
  });

  it("applies a deadline to a stream when one is set", async () => {
    routes.set("/trickle-lines", (_req, res) => {
      res.writeHead(200);
      const timer = setInterval(() => (res.destroyed ? clearInterval(timer) : res.write("{}\n")), 300);
      res.on("close", () => clearInterval(timer));
    });
    const client = createHttpClient(fast);
    const consume = async () => {
      for await (const _ of client.jsonLines(base + "/trickle-lines", { deadlineMs: 1500 })) void _;
    };
    await expect(consume()).rejects.toMatchObject({ code: "TIMEOUT" });
  });

  it("does not retry a POST that failed with a 5xx, a 429 or a dropped connection, and says why", async () => {
    routes.set("/create", (_req, res) => res.writeHead(503).end("busy"));
    await expect(createHttpClient(fast).request(base + "/create", { method: "POST", json: { a: 1 } })).rejects.toThrow(/HTTP 503/);
    expect(hits.get("/create")).toBe(1);

    routes.set("/create-429", (_req, res) => res.writeHead(429).end());
    await expect(createHttpClient({ ...fast, rateLimiter: false }).request(base + "/create-429", { method: "PATCH", json: {} })).rejects.toThrow(/HTTP 429/);
    expect(hits.get("/create-429")).toBe(1);

    routes.set("/create-drop", (req) => req.socket.destroy());
    await expect(createHttpClient(fast).request(base + "/create-drop", { method: "POST", body: "x" })).rejects.toThrow(/not retried: POST is not idempotent; pass idempotent: true/);
    expect(hits.get("/create-drop")).toBe(1);
  });

  it("retries a POST when the caller says it is idempotent, or when nothing was sent", async () => {
    routes.set("/search", (_req, res, _b, n) => (n < 3 ? res.writeHead(502).end() : res.end("found")));
    expect((await createHttpClient(fast).request(base + "/search", { method: "POST", json: { q: 1 }, idempotent: true })).text()).toBe("found");
    expect(hits.get("/search")).toBe(3);

    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const error = (await createHttpClient({ ...fast, maxAttempts: 3 })
      .request(`http://127.0.0.1:${port}/x`, { method: "POST" })
      .catch((e: unknown) => e)) as Error;
    // Connection refused: the request never left, so it was tried three times.
    expect(error.message).toMatch(/failed after 3 attempts: ECONNREFUSED/);
  });

  it("retries GitHub's rate-limit 403 after the reset it announces", async () => {
    routes.set("/gh", (_req, res, _b, n) =>
      n === 1 ? res.writeHead(403, { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(Math.ceil(Date.now() / 1000) + 1) }).end('{"message":"API rate limit exceeded"}') : res.end("ok"),
    );
    const client = createHttpClient(fast);
    const started = Date.now();
    expect((await client.request(base + "/gh")).text()).toBe("ok");
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(client.rateLimiter!.stats.throttled).toBe(1);
  });
});

describe("streamItems", () => {
  it("streams the array at a pointer, with headers before the items and the rest of the document after", async () => {
    const data = Array.from({ length: 5000 }, (_, i) => ({ id: i, text: `item ${i}, with "quotes" and ] brackets` }));
    routes.set("/big", (_req, res) => {
      res.writeHead(200, { "content-type": "application/json", "x-total": "5000" });
      const body = JSON.stringify({ meta: { page: 1 }, data, next_cursor: "c2" });
      // Sent in small pieces, as a slow network would.
      let at = 0;
      const send = () => {
        if (at >= body.length) return res.end();
        res.write(body.slice(at, (at += 7000)));
        setImmediate(send);
      };
      send();
    });
    const response = await createHttpClient(fast).streamItems<{ id: number }>(base + "/big", { pointer: "/data" });
    expect(response.status).toBe(200);
    expect(response.headers["x-total"]).toBe("5000");
    expect(response.remainder).toBeUndefined();
    let n = 0;
    for await (const item of response.items) expect(item.id).toBe(n++);
    expect(n).toBe(5000);
    expect(response.remainder).toEqual({ meta: { page: 1 }, data: [], next_cursor: "c2" });
  });

  it("streams JSON lines when the content type says so", async () => {
    routes.set("/export", (_req, res) => res.writeHead(200, { "content-type": "application/x-ndjson" }).end('{"a":1}\n\n{"a":2}\n'));
    const response = await createHttpClient(fast).streamItems(base + "/export");
    const items: unknown[] = [];
    for await (const item of response.items) items.push(item);
    expect(items).toEqual([{ a: 1 }, { a: 2 }]);
  });

  it("names the URL when the body is not what was expected", async () => {
    routes.set("/wrong", (_req, res) => res.writeHead(200, { "content-type": "application/json" }).end('{"items":[]}'));
    const response = await createHttpClient(fast).streamItems(base + "/wrong?api_key=k", { pointer: "/data" });
    const consume = async () => {
      for await (const _ of response.items) void _;
    };
    await expect(consume()).rejects.toThrow(/^http:\/\/127\.0\.0\.1:\d+\/wrong\?api_key=\[redacted\]: no array at \/data/);
  });
});

describe("conditional requests and concurrency", () => {
  it("revalidates with If-None-Match and serves a 304 from the cache, with the 304's fresh headers", async () => {
    let version = 1;
    routes.set("/labels", (req, res) => {
      const etag = `"v${version}"`;
      if (req.headers["if-none-match"] === etag) return res.writeHead(304, { etag, "x-ratelimit-remaining": "4990" }).end();
      res.writeHead(200, { etag, "content-type": "application/json", "x-ratelimit-remaining": "4999" }).end(JSON.stringify([{ v: version }]));
    });
    const cache = createResponseCache();
    const client = createHttpClient({ baseUrl: base });
    const first = await client.request("/labels", { cache, query: { per_page: 100 } });
    expect(first.json()).toEqual([{ v: 1 }]);
    expect(first.notModified).toBeUndefined();
    expect(seen[0]!.headers["if-none-match"]).toBeUndefined();

    const again = await client.request("/labels", { cache, query: { per_page: 100 } });
    expect(seen[1]!.headers["if-none-match"]).toBe('"v1"');
    expect(again).toMatchObject({ status: 200, notModified: true });
    expect(again.json()).toEqual([{ v: 1 }]);
    expect(again.headers["x-ratelimit-remaining"]).toBe("4990");
    expect(again.headers["content-type"]).toBe("application/json");

    version = 2;
    const changed = await client.request("/labels", { cache, query: { per_page: 100 } });
    expect(changed.notModified).toBeUndefined();
    expect(changed.json()).toEqual([{ v: 2 }]);
    // Another query or another Accept is another entry.
    await client.request("/labels", { cache, query: { per_page: 50 } });
    expect(seen[3]!.headers["if-none-match"]).toBeUndefined();
    await client.request("/labels", { cache, query: { per_page: 100 }, headers: { accept: "text/plain" } });
    expect(seen[4]!.headers["if-none-match"]).toBeUndefined();
    // Without the cache option nothing is conditional.
    await client.request("/labels", { query: { per_page: 100 } });
    expect(seen[5]!.headers["if-none-match"]).toBeUndefined();
  });

  it("falls back on If-Modified-Since, and keeps nothing without a validator", async () => {
    routes.set("/lm", (req, res) =>
      req.headers["if-modified-since"] ? res.writeHead(304).end() : res.writeHead(200, { "last-modified": "Tue, 10 Oct 2017 16:00:00 GMT" }).end("body"),
    );
    routes.set("/none", (_req, res) => res.end("plain"));
    const cache = createResponseCache();
    const client = createHttpClient();
    await client.request(base + "/lm", { cache });
    const revalidated = await client.request(base + "/lm", { cache });
    expect(seen[1]!.headers["if-modified-since"]).toBe("Tue, 10 Oct 2017 16:00:00 GMT");
    expect(revalidated.text()).toBe("body");
    await client.request(base + "/none", { cache });
    await client.request(base + "/none", { cache });
    expect(seen[3]!.headers["if-none-match"]).toBeUndefined();
    expect(cache.size).toBe(1);
  });

  it("evicts the least recently used responses past its byte budget", () => {
    const cache = createResponseCache({ maxBytes: 6000 });
    const entry = (n: number) => ({ etag: `"${n}"`, status: 200, headers: {}, body: Buffer.alloc(1500) });
    cache.set("a", entry(1));
    cache.set("b", entry(2));
    cache.get("a");
    cache.set("c", entry(3));
    expect([cache.get("a")?.etag, cache.get("b")?.etag, cache.get("c")?.etag]).toEqual(['"1"', undefined, '"3"']);
    cache.set("huge", { status: 200, headers: {}, body: Buffer.alloc(10_000) });
    expect(cache.get("huge")).toBeUndefined();
    expect(cache.bytes).toBeLessThanOrEqual(6000);
  });

  it("keeps at most maxConcurrentRequests in flight, the others waiting their turn", async () => {
    let inFlight = 0;
    let most = 0;
    routes.set("/slow", (_req, res) => {
      most = Math.max(most, ++inFlight);
      setTimeout(() => {
        inFlight--;
        res.end("ok");
      }, 30);
    });
    const client = createHttpClient({ maxConcurrentRequests: 3, rateLimiter: false });
    const bodies = await Promise.all(Array.from({ length: 12 }, () => client.request(base + "/slow").then((r) => r.text())));
    expect(bodies).toEqual(Array(12).fill("ok"));
    expect(most).toBe(3);

    // A stream holds its slot until its body is read; a stop frees a waiter.
    const one = createHttpClient({ maxConcurrentRequests: 1, rateLimiter: false });
    const streaming = await one.stream(base + "/slow");
    const controller = new AbortController();
    const waiting = one.request(base + "/slow", { signal: controller.signal });
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ code: "STOPPED" });
    for await (const _ of streaming.body) void _;
    expect((await one.request(base + "/slow")).text()).toBe("ok");
  });
});
