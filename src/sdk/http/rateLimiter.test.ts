import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHttpFixtureServer, type HttpFixtureServer } from "../../testing/httpFixtureServer.js";
import { createHttpClient } from "./client.js";
import { RateLimiter } from "./rateLimiter.js";

describe("RateLimiter", () => {
  it("counts one slowdown per window: 8 concurrent 429s to requests sent before it cut the rate once", async () => {
    let now = 0;
    const limiter = new RateLimiter({ now: () => now });
    // 16 requests started 10 ms apart: the limiter measures 100 req/s sent.
    const turns = [];
    for (let i = 0; i < 16; i++) {
      turns.push((await limiter.acquire())!);
      now += 10;
    }
    for (const turn of turns.slice(0, 8)) turn.complete({ status: 429 });
    expect(limiter.stats).toMatchObject({ throttled: 8, slowdowns: 1 });
    // 70 % of the 100 req/s sent: one start every ~14.3 ms.
    expect(limiter.currentIntervalMs).toBeCloseTo(1000 / 70, 1);
    // A 429 to a request sent after the slowdown is news: it counts.
    now += 20;
    const later = (await limiter.acquire())!;
    later.complete({ status: 429 });
    expect(limiter.stats.slowdowns).toBe(2);
    expect(limiter.currentIntervalMs).toBeCloseTo(1000 / 49, 1);
  });

  it("raises the rate 2 % per success and lifts the limit entirely, caps the gap and warns once", () => {
    const warnings: number[] = [];
    const limiter = new RateLimiter({ initialIntervalMs: 100, maxIntervalMs: 1000, onMaxInterval: (ms) => warnings.push(ms) });
    limiter.record(200);
    expect(limiter.currentIntervalMs).toBeCloseTo(100 / 1.02);
    for (let i = 0; i < 300; i++) limiter.record(200);
    expect(limiter.currentIntervalMs).toBe(0);
    for (let i = 0; i < 20; i++) limiter.record(429);
    expect(limiter.currentIntervalMs).toBe(1000);
    expect(warnings).toEqual([1000]);
    // 5xx says nothing about the rate.
    limiter.record(503);
    expect(limiter.currentIntervalMs).toBe(1000);
  });

  it("spaces concurrent callers in order", async () => {
    const limiter = new RateLimiter({ initialIntervalMs: 30 });
    const started: number[] = [];
    const t0 = Date.now();
    await Promise.all([0, 1, 2].map(async (i) => (await limiter.acquire(), (started[i] = Date.now() - t0))));
    expect(started[0]!).toBeLessThan(25);
    expect(started[2]!).toBeGreaterThanOrEqual(55);
  });

  it("holds every caller, waiting ones too, while a Retry-After runs", async () => {
    const limiter = new RateLimiter({ initialIntervalMs: 200 });
    const first = (await limiter.acquire())!;
    const t0 = Date.now();
    // Due 200 ms from now; the Retry-After that arrives meanwhile holds it for the whole second.
    const waiting = limiter.acquire();
    first.complete({ status: 429, headers: { "retry-after": "1" } });
    await waiting;
    expect(Date.now() - t0).toBeGreaterThanOrEqual(950);
  });

  it("pauses until the quota resets when the remaining requests are spent, counting those in flight", async () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    const limiter = new RateLimiter({ now: () => now });
    const a = (await limiter.acquire())!;
    await limiter.acquire(); // still in flight
    a.complete({ status: 200, headers: { "x-ratelimit-limit": "100", "x-ratelimit-remaining": "1", "x-ratelimit-reset": String((now + 30_000) / 1000) } });
    expect(limiter.pausedUntil).toBe(now + 30_000);
    expect(limiter.stats.throttled).toBe(0);
  });

  it("spreads the last tenth of a quota over the time left", async () => {
    const limiter = new RateLimiter();
    const t0 = Date.now();
    (await limiter.acquire())!.complete({ status: 200, headers: { ratelimit: '"default";r=5;t=1', "ratelimit-policy": '"default";q=100;w=60' } });
    // 5 requests left for 1 s: one every 200 ms.
    const starts: number[] = [];
    for (let i = 0; i < 3; i++) starts.push((await limiter.acquire())!.startedAtMs - t0);
    expect(starts[0]!).toBeGreaterThanOrEqual(190);
    expect(starts[2]! - starts[0]!).toBeGreaterThanOrEqual(380);
  });
});

describe("the client against a loopback API enforcing 20 req/s, with 8 concurrent workers", () => {
  let api: HttpFixtureServer;
  beforeAll(async () => {
    api = await startHttpFixtureServer();
    api.route("GET", "/items", { json: { ok: true } });
  });
  afterAll(() => api.close());

  /** Runs 8 workers until `stop()`; returns the times of their successful requests. */
  function workers(client: ReturnType<typeof createHttpClient>) {
    const done: number[] = [];
    let running = true;
    const all = Array.from({ length: 8 }, async () => {
      while (running) {
        await client.request("/items");
        done.push(Date.now());
      }
    });
    return {
      done,
      stop: async () => {
        running = false;
        await Promise.all(all);
      },
    };
  }
  const rateBetween = (done: number[], from: number, to: number) => (done.filter((t) => t >= from && t < to).length * 1000) / (to - from);

  it(
    "converges near the limit (no Retry-After to help) and is back to full speed within 10 s after throttling stops",
    async () => {
      api.setRateLimit({ limit: 20, windowMs: 1000, retryAfter: false });
      const client = createHttpClient({ baseUrl: api.url, retryBaseDelayMs: 100, retryMaxDelayMs: 1000, maxThrottledRetries: 1000 });
      const t0 = Date.now();
      const run = workers(client);
      // Converge for 3 s, then measure over 12 s: long enough that a stall of a second on a loaded machine moves the rate by < 10 %.
      await new Promise((r) => setTimeout(r, 15_000));
      const throttledRate = rateBetween(run.done, t0 + 3000, Date.now());
      const stats = client.rateLimiter!.stats;

      api.setRateLimit(undefined);
      const lifted = Date.now();
      let recoveredAt: number | undefined;
      while (Date.now() - lifted < 20_000) {
        if (client.rateLimiter!.currentIntervalMs === 0 && client.rateLimiter!.pausedUntil <= Date.now()) {
          recoveredAt = Date.now();
          break;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      // Full speed: the limiter adds no gap; over the next second the workers run at the loopback's
      // pace, which even a loaded machine keeps well above twice the old limit.
      const measureFrom = Date.now();
      await new Promise((r) => setTimeout(r, 1000));
      const fullRate = rateBetween(run.done, measureFrom, Date.now());
      await run.stop();
      process.stderr.write(
        `rate limiter: ${throttledRate.toFixed(1)} req/s under a 20 req/s limit (${stats.throttled} of ${stats.total} responses throttled, ${stats.slowdowns} slowdowns); ` +
          `limit lifted ${recoveredAt === undefined ? "never" : `${((recoveredAt - lifted) / 1000).toFixed(1)} s`} after throttling stopped; then ${fullRate.toFixed(0)} req/s\n`,
      );
      expect(throttledRate).toBeGreaterThanOrEqual(14);
      expect(throttledRate).toBeLessThanOrEqual(26);
      expect(recoveredAt).toBeDefined();
      expect(recoveredAt! - lifted).toBeLessThan(10_000);
      expect(fullRate).toBeGreaterThan(40);
    },
    90_000,
  );

  it(
    "paces by X-RateLimit headers and Retry-After so that 429s stay rare",
    async () => {
      api.setRateLimit({ limit: 20, windowMs: 1000, algorithm: "fixed-window", headers: "x-ratelimit" });
      const client = createHttpClient({ baseUrl: api.url, maxThrottledRetries: 1000 });
      const t0 = Date.now();
      const run = workers(client);
      await new Promise((r) => setTimeout(r, 6000));
      const rate = rateBetween(run.done, t0 + 1000, Date.now());
      await run.stop();
      const stats = client.rateLimiter!.stats;
      process.stderr.write(`rate limiter with X-RateLimit headers: ${rate.toFixed(1)} req/s, ${stats.throttled} of ${stats.total} responses throttled\n`);
      api.setRateLimit(undefined);
      expect(rate).toBeGreaterThanOrEqual(14);
      expect(rate).toBeLessThanOrEqual(26);
      // The headers announce the spent window: the client waits for the reset instead of asking.
      expect(stats.throttled / stats.total).toBeLessThan(0.05);
    },
    60_000,
  );
});

describe("RateLimiter pauses", () => {
  it("tells once per pause why requests wait", () => {
    const pauses: [number, string][] = [];
    const now = Date.parse("2026-01-01T00:00:00Z");
    const limiter = new RateLimiter({ now: () => now, onPause: (until, reason) => pauses.push([until - now, reason]) });
    for (let i = 0; i < 2; i++) limiter.record(200, { headers: { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(now / 1000 + 60) } });
    limiter.record(429, { headers: { "retry-after": "120" } });
    expect(pauses).toEqual([
      [60_000, "quota"],
      [120_000, "retry-after"],
    ]);
  });
});
