import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { request } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import { startHttpFixtureServer, type HttpFixtureServer } from "./httpFixtureServer.js";

let api: HttpFixtureServer | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

async function get(path: string, init: { method?: string; body?: string; headers?: Record<string, string> } = {}) {
  const res = await request(api!.url + path, { method: (init.method ?? "GET") as "GET", body: init.body, headers: init.headers });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text, json: () => JSON.parse(text) as unknown };
}

describe("startHttpFixtureServer", () => {
  it("listens on 127.0.0.1 on a free port and answers routes with :params, logging every request", async () => {
    api = await startHttpFixtureServer();
    expect(api.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    api.route("GET", "/repos/:owner/:repo", (req) => ({ json: { owner: req.params.owner, repo: req.params.repo, q: req.query.get("q") } }));
    api.route("POST", "/echo", (req) => ({ status: 201, headers: { "x-seen": "yes" }, json: req.json() }));
    expect((await get("/repos/octo/hello%20world?q=1")).json()).toEqual({ owner: "octo", repo: "hello world", q: "1" });
    const echoed = await get("/echo", { method: "POST", body: '{"a":1}', headers: { "content-type": "application/json" } });
    expect(echoed).toMatchObject({ status: 201, headers: { "x-seen": "yes" } });
    expect(echoed.json()).toEqual({ a: 1 });
    expect((await get("/missing")).status).toBe(404);
    expect(api.requests.map((r) => [r.method, r.path, r.status])).toEqual([
      ["GET", "/repos/octo/hello%20world", 200],
      ["POST", "/echo", 201],
      ["GET", "/missing", 404],
    ]);
    expect(api.requestsTo("/echo", "post")[0]!.body).toBe('{"a":1}');
  });

  it("injects failures into the next matching requests: a 429 with Retry-After, a 500, a dropped connection", async () => {
    api = await startHttpFixtureServer();
    api.route("GET", "/items", { json: [1] });
    api.inject({ path: "/items", status: 429, times: 2, headers: { "retry-after": "1" } }).inject({ path: "/other", status: 500 });
    const first = await get("/items");
    expect(first.status).toBe(429);
    expect(first.headers["retry-after"]).toBe("1");
    expect((await get("/items")).status).toBe(429);
    expect((await get("/items")).status).toBe(200);
    api.inject({ path: "/items", status: 0, drop: true });
    await expect(get("/items")).rejects.toThrow();
    expect((await get("/items")).status).toBe(200);
  });

  it("enforces a rate limit and advertises it in headers", async () => {
    api = await startHttpFixtureServer({ rateLimit: { limit: 3, windowMs: 60_000, algorithm: "fixed-window", headers: "x-ratelimit" } });
    api.route("GET", "/x", { json: {} });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push(await get("/x"));
    expect(statuses.map((r) => r.status)).toEqual([200, 200, 200, 429]);
    expect(statuses.map((r) => r.headers["x-ratelimit-remaining"])).toEqual(["2", "1", "0", "0"]);
    expect(Number(statuses[3]!.headers["retry-after"])).toBeGreaterThan(0);
    api.setRateLimit({ limit: 1, windowMs: 60_000, headers: "ratelimit" });
    const r = await get("/x");
    expect(r.headers.ratelimit).toMatch(/^"default";r=0;t=\d+$/);
    expect(r.headers["ratelimit-policy"]).toBe('"default";q=1;w=60');
    api.setRateLimit(undefined);
    expect((await get("/x")).status).toBe(200);
  });

  it("serves paginated collections that see items added underneath", async () => {
    api = await startHttpFixtureServer();
    const items = [{ id: 1 }, { id: 2 }, { id: 3 }];
    api.collection("/cursor", () => items, { pagination: "cursor", pageSize: 2 });
    const first = (await get("/cursor")).json() as { data: unknown[]; next_cursor: string };
    expect(first.data).toEqual([{ id: 1 }, { id: 2 }]);
    items.push({ id: 4 });
    const second = (await get(`/cursor?cursor=${first.next_cursor}`)).json();
    expect(second).toEqual({ data: [{ id: 3 }, { id: 4 }], next_cursor: null });
    expect((await get("/cursor?cursor=%%%")).status).toBe(400);
  });

  it("replays recorded exchanges in order, from nock-style recordings with raw headers", async () => {
    api = await startHttpFixtureServer();
    const dir = await mkdtemp(join(tmpdir(), "flowcap-fixture-"));
    const file = join(dir, "recording.json");
    await writeFile(
      file,
      JSON.stringify([
        { scope: "https://api.github.com:443", method: "GET", path: "/repos/o/r/issues?state=all&page=1", status: 200, response: [{ id: 1 }], rawHeaders: ["Link", '<https://api.github.com/x?page=2>; rel="next"', "Content-Length", "999"] },
        { method: "GET", path: "/repos/o/r/issues?page=1&state=all", status: 200, body: [{ id: 1, again: true }] },
        { path: "/text", status: 503, response: "maintenance", headers: { "retry-after": "5" } },
      ]),
    );
    await api.replayFile(file);
    const r1 = await get("/repos/o/r/issues?page=1&state=all");
    expect(r1.json()).toEqual([{ id: 1 }]);
    expect(r1.headers.link).toMatch(/rel="next"/);
    expect((await get("/repos/o/r/issues?state=all&page=1")).json()).toEqual([{ id: 1, again: true }]);
    // Each exchange answers once.
    expect((await get("/repos/o/r/issues?state=all&page=1")).status).toBe(404);
    expect(await get("/text")).toMatchObject({ status: 503, text: "maintenance", headers: { "retry-after": "5" } });

    await writeFile(file, '{"nope": 1}');
    await expect(api.replayFile(file)).rejects.toThrow(/a recording is an array of exchanges/);
  });

  it("closes promptly with keep-alive connections open", async () => {
    api = await startHttpFixtureServer();
    api.route("GET", "/x", { json: {} });
    await get("/x");
    const started = Date.now();
    await api.close();
    api = undefined;
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
