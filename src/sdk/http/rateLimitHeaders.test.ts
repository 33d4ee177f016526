import { describe, expect, it } from "vitest";
import { isRateLimitedResponse, parseRateLimitHeaders, parseRetryAfter } from "./rateLimitHeaders.js";

const now = Date.parse("2026-03-01T12:00:00Z");

describe("parseRateLimitHeaders", () => {
  it("reads GitHub's X-RateLimit-* (epoch seconds), correcting for the server's clock", () => {
    const reset = (now + 600_000) / 1000;
    expect(parseRateLimitHeaders({ "x-ratelimit-limit": "5000", "x-ratelimit-remaining": "4999", "x-ratelimit-reset": String(reset) }, now)).toEqual({ limit: 5000, remaining: 4999, resetAtMs: now + 600_000 });
    // The server's clock runs 5 s behind ours: its reset is 5 s later on our clock.
    const date = new Date(now - 5000).toUTCString();
    expect(parseRateLimitHeaders({ date, "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(reset) }, now)!.resetAtMs).toBe(now + 605_000);
  });

  it("reads a reset in seconds from now, X-Rate-Limit-* and X-RateLimit-Reset-After", () => {
    expect(parseRateLimitHeaders({ "x-rate-limit-remaining": "3", "x-rate-limit-reset": "30" }, now)).toEqual({ remaining: 3, resetAtMs: now + 30_000 });
    expect(parseRateLimitHeaders({ "x-ratelimit-remaining": "1", "x-ratelimit-reset-after": "2.5" }, now)).toEqual({ remaining: 1, resetAtMs: now + 2500 });
  });

  it("reads the IETF draft's older fields and policy", () => {
    expect(parseRateLimitHeaders({ "ratelimit-limit": "100, 100;w=60", "ratelimit-remaining": "42", "ratelimit-reset": "17" }, now)).toEqual({ limit: 100, windowMs: 60_000, remaining: 42, resetAtMs: now + 17_000 });
    expect(parseRateLimitHeaders({ "ratelimit-policy": "10;w=1", "ratelimit-remaining": "2", "ratelimit-reset": "1" }, now)).toEqual({ limit: 10, windowMs: 1000, remaining: 2, resetAtMs: now + 1000 });
  });

  it("reads the newer RateLimit / RateLimit-Policy pair, taking the tightest policy", () => {
    const headers = { ratelimit: '"burst";r=50;t=1, "daily";r=3;t=3600', "ratelimit-policy": '"burst";q=100;w=1, "daily";q=1000;w=86400' };
    expect(parseRateLimitHeaders(headers, now)).toEqual({ remaining: 3, resetAtMs: now + 3_600_000, limit: 1000, windowMs: 86_400_000 });
    expect(parseRateLimitHeaders({ ratelimit: "limit=10, remaining=4, reset=7" }, now)).toEqual({ limit: 10, remaining: 4, resetAtMs: now + 7000 });
  });

  it("reads Retry-After and ignores what it cannot read", () => {
    expect(parseRateLimitHeaders({ "retry-after": "3" }, now)).toEqual({ retryAtMs: now + 3000 });
    expect(parseRateLimitHeaders({ "x-ratelimit-remaining": "many", "ratelimit": ";;,", "retry-after": "soon" }, now)).toBeUndefined();
    expect(parseRateLimitHeaders({}, now)).toBeUndefined();
  });

  it("knows a throttled response: 429, or a 403 with rate-limit evidence", () => {
    expect(isRateLimitedResponse(429, {})).toBe(true);
    expect(isRateLimitedResponse(403, { "x-ratelimit-remaining": "0", "x-ratelimit-reset": "1" })).toBe(true);
    expect(isRateLimitedResponse(403, { "retry-after": "60" })).toBe(true);
    expect(isRateLimitedResponse(403, { "x-ratelimit-remaining": "10" })).toBe(false);
    expect(isRateLimitedResponse(403, {})).toBe(false);
  });
});

describe("parseRetryAfter", () => {
  it("parses seconds or an HTTP date", () => {
    expect(parseRetryAfter("120")).toBe(120_000);
    expect(parseRetryAfter(["3"])).toBe(3000);
    expect(parseRetryAfter("Wed, 21 Oct 2015 07:28:10 GMT", Date.parse("Wed, 21 Oct 2015 07:28:00 GMT"))).toBe(10_000);
    expect(parseRetryAfter("soon")).toBeUndefined();
  });
});
