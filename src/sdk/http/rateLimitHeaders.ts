/** Header values as undici returns them. */
export type HttpHeaders = Record<string, string | string[] | undefined>;

/**
 * What a response says about the API's rate limit, read from its headers. Times are absolute
 * (milliseconds since the epoch, on this machine's clock), so they stay meaningful after the
 * response is gone.
 */
export interface RateLimitInfo {
  /** Requests allowed per window, when the API says (`X-RateLimit-Limit`, `RateLimit-Limit`, `RateLimit-Policy` `q`). */
  limit?: number;
  /** Requests left in the current window (`X-RateLimit-Remaining`, `RateLimit-Remaining`, `RateLimit` `r`). */
  remaining?: number;
  /** When the window resets and `limit` requests are available again (`X-RateLimit-Reset`, `RateLimit-Reset`, `RateLimit` `t`). */
  resetAtMs?: number;
  /** The window's length, when the API says (`RateLimit-Policy` `w`, `RateLimit-Limit: 100, 100;w=60`). */
  windowMs?: number;
  /** Not before this time, per `Retry-After` (RFC 9110 §10.2.3) on a 429, 503 or 403. */
  retryAtMs?: number;
}

function first(value: string | string[] | undefined): string | undefined {
  return (Array.isArray(value) ? value[0] : value)?.trim() || undefined;
}

function all(value: string | string[] | undefined): string | undefined {
  return (Array.isArray(value) ? value.join(", ") : value)?.trim() || undefined;
}

/** A non-negative number; undefined for anything else (`"12abc"`, `"-1"`, `""`). */
function count(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d+(\.\d+)?$/.test(text)) return undefined;
  return Number(text);
}

/**
 * Reads `Retry-After` (RFC 9110 §10.2.3): delay-seconds or an HTTP date. Returns milliseconds
 * from `nowMs`, or undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | string[] | undefined, nowMs = Date.now()): number | undefined {
  const text = first(value);
  if (!text) return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

/**
 * The offset between the server's clock and ours, from the response's `Date` header: added to an
 * epoch reset time the server gave, it gives the time on our clock. 0 without a readable `Date`.
 * `Date` has one-second precision, so an offset under a second is taken as none.
 */
function clockSkewMs(headers: HttpHeaders, nowMs: number): number {
  const date = first(headers.date);
  if (!date) return 0;
  const server = Date.parse(date);
  if (Number.isNaN(server)) return 0;
  const skew = nowMs - server;
  return Math.abs(skew) < 1000 ? 0 : skew;
}

/**
 * `X-RateLimit-Reset` is an epoch time (GitHub, Twitter, Okta: seconds; a few APIs:
 * milliseconds) or, for others, seconds until the reset. Values the size of an epoch time are
 * read as one: no window lasts 30 years.
 */
function resetToAbsolute(value: number, nowMs: number, skewMs: number): number {
  if (value >= 1e12) return value + skewMs;
  if (value >= 1e9) return value * 1000 + skewMs;
  return nowMs + value * 1000;
}

/** The first `name` header among the spellings APIs use (`x-ratelimit-remaining`, `x-rate-limit-remaining`). */
function xHeader(headers: HttpHeaders, suffix: string): string | undefined {
  return first(headers[`x-ratelimit-${suffix}`]) ?? first(headers[`x-rate-limit-${suffix}`]);
}

/**
 * Parses a structured-field list (RFC 9651) as the IETF RateLimit drafts use it: items with
 * parameters, `"default";r=50;t=30, "burst";r=0;t=1` or the older `limit=100, remaining=50`.
 * Returns, per item, its parameters (and a bare `key=value` member as a parameter of its own).
 * Lenient: anything it cannot read is skipped.
 */
function structuredItems(text: string): Record<string, string>[] {
  const items: Record<string, string>[] = [];
  for (const member of splitOutsideQuotes(text, ",")) {
    const params: Record<string, string> = {};
    for (const [i, part] of splitOutsideQuotes(member, ";").entries()) {
      const eq = part.indexOf("=");
      if (eq === -1) {
        if (i === 0) params[""] = unquote(part);
        continue;
      }
      params[part.slice(0, eq).trim().toLowerCase()] = unquote(part.slice(eq + 1));
    }
    items.push(params);
  }
  return items;
}

function unquote(text: string): string {
  const t = text.trim();
  return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1).replace(/\\(.)/g, "$1") : t;
}

function splitOutsideQuotes(text: string, separator: string): string[] {
  const out: string[] = [];
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "\\" && quoted) i++;
    else if (c === '"') quoted = !quoted;
    else if (c === separator && !quoted) {
      out.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(text.slice(start).trim());
  return out.filter((s) => s !== "");
}

/**
 * Reads the rate-limit headers APIs send: `Retry-After`; `X-RateLimit-Limit/Remaining/Reset`
 * (and `X-Rate-Limit-*`, `X-RateLimit-Reset-After`); the IETF draft's `RateLimit-Limit`,
 * `RateLimit-Remaining`, `RateLimit-Reset` and `RateLimit-Policy`, in its older
 * (`RateLimit-Limit: 100, 100;w=60`) and newer (`RateLimit: "default";r=50;t=30` with
 * `RateLimit-Policy: "default";q=100;w=60`) forms. When several policies are listed, the one with
 * the fewest requests remaining wins. Returns undefined when the response says nothing.
 */
export function parseRateLimitHeaders(headers: HttpHeaders, nowMs = Date.now()): RateLimitInfo | undefined {
  const info: RateLimitInfo = {};
  const skew = clockSkewMs(headers, nowMs);

  const retryAfter = parseRetryAfter(headers["retry-after"], nowMs - skew);
  if (retryAfter !== undefined) info.retryAtMs = nowMs + retryAfter;

  // X-RateLimit-*: the de-facto headers (GitHub, Twitter, Okta, Intercom, ...).
  const xLimit = count(xHeader(headers, "limit"));
  const xRemaining = count(xHeader(headers, "remaining"));
  const xReset = count(xHeader(headers, "reset"));
  const xResetAfter = count(xHeader(headers, "reset-after"));
  if (xLimit !== undefined) info.limit = xLimit;
  if (xRemaining !== undefined) info.remaining = xRemaining;
  if (xResetAfter !== undefined) info.resetAtMs = nowMs + xResetAfter * 1000;
  else if (xReset !== undefined) info.resetAtMs = resetToAbsolute(xReset, nowMs, skew);

  // IETF draft, older form: separate fields, reset in seconds from now.
  const limitField = all(headers["ratelimit-limit"]);
  if (limitField !== undefined) {
    const [head, ...policies] = structuredItems(limitField);
    const limit = count(head?.[""]);
    if (limit !== undefined) info.limit = limit;
    for (const p of policies) if (count(p[""]) === limit && count(p.w) !== undefined) info.windowMs = count(p.w)! * 1000;
  }
  const remaining = count(first(headers["ratelimit-remaining"]));
  if (remaining !== undefined) info.remaining = remaining;
  const reset = count(first(headers["ratelimit-reset"]));
  if (reset !== undefined) info.resetAtMs = nowMs + reset * 1000;

  // IETF draft, newer form: `RateLimit` lists policies with r (remaining) and t (seconds to reset);
  // drafts 06–07 wrote `limit=, remaining=, reset=` members instead.
  const combined = all(headers["ratelimit"]);
  const policyField = all(headers["ratelimit-policy"]);
  const policies = new Map<string, Record<string, string>>();
  if (policyField !== undefined) for (const p of structuredItems(policyField)) policies.set(p[""] ?? "", p);
  if (combined !== undefined) {
    const items = structuredItems(combined);
    const flat = Object.assign({}, ...items) as Record<string, string>;
    if (count(flat.remaining) !== undefined) {
      info.remaining = count(flat.remaining);
      if (count(flat.limit) !== undefined) info.limit = count(flat.limit);
      if (count(flat.reset) !== undefined) info.resetAtMs = nowMs + count(flat.reset)! * 1000;
    } else {
      let tightest: Record<string, string> | undefined;
      for (const item of items) {
        const r = count(item.r);
        if (r !== undefined && (tightest === undefined || r < count(tightest.r)!)) tightest = item;
      }
      if (tightest) {
        info.remaining = count(tightest.r);
        if (count(tightest.t) !== undefined) info.resetAtMs = nowMs + count(tightest.t)! * 1000;
        const policy = policies.get(tightest[""] ?? "");
        if (policy && count(policy.q) !== undefined) info.limit = count(policy.q);
        if (policy && count(policy.w) !== undefined) info.windowMs = count(policy.w)! * 1000;
      }
    }
  } else if (policyField !== undefined && policies.size > 0) {
    // The older draft's RateLimit-Policy: `100;w=60`.
    const [p] = [...policies.values()];
    if (info.limit === undefined && count(p![""]) !== undefined) info.limit = count(p![""]);
    if (count(p!.q) !== undefined && info.limit === undefined) info.limit = count(p!.q);
    if (count(p!.w) !== undefined) info.windowMs = count(p!.w)! * 1000;
  }

  return Object.keys(info).length > 0 ? info : undefined;
}

/**
 * True for a response that says "too many requests": a 429, or a 403 that carries rate-limit
 * evidence (GitHub answers its primary and secondary limits with 403 and `X-RateLimit-Remaining: 0`
 * or `Retry-After`).
 */
export function isRateLimitedResponse(status: number, headers: HttpHeaders, info = parseRateLimitHeaders(headers)): boolean {
  if (status === 429) return true;
  if (status !== 403 || info === undefined) return false;
  return info.retryAtMs !== undefined || info.remaining === 0;
}
