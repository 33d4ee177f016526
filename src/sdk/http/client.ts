import type { Readable } from "node:stream";
import type { Dispatcher } from "undici";
import { readLines } from "../../protocol/index.js";
import type { Logger } from "../../runtime/index.js";
import { sleep } from "../../util/abort.js";
import { FlowcapError, StoppedError } from "../../util/errors.js";
import { Semaphore } from "../../util/semaphore.js";
import { oauth2Auth, type AppliedAuth, type HttpAuth } from "./auth.js";
import { HttpStatusError, redactUrl } from "./errors.js";
import { JsonArraySplitter } from "./jsonArrayStream.js";
import { isRateLimitedResponse, parseRateLimitHeaders, type HttpHeaders } from "./rateLimitHeaders.js";
import { RateLimiter, type RateLimitTurn } from "./rateLimiter.js";
import type { CachedResponse, ResponseCache } from "./responseCache.js";
import type { TokenSource } from "./tokenSource.js";

export type { HttpHeaders } from "./rateLimitHeaders.js";

/** How long a request may wait for response headers, and for each chunk of the body: 60 s. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;
/**
 * How long one attempt of a buffered request may take from sending to the body's last byte: 5
 * minutes. Unlike the per-chunk timeout, a body that trickles in a byte at a time cannot reset it.
 */
export const DEFAULT_REQUEST_DEADLINE_MS = 300_000;
/** Attempts per request (the first try included) before a network error or 5xx is final. */
export const DEFAULT_MAX_ATTEMPTS = 5;
/** Retries of a request the API throttles (429, or 403 with rate-limit headers), on top of maxAttempts. */
export const DEFAULT_MAX_THROTTLED_RETRIES = 10;
/** The first retry's delay; each further retry doubles it (with jitter). */
export const DEFAULT_RETRY_BASE_DELAY_MS = 500;
/** The longest backoff between two attempts. */
export const DEFAULT_RETRY_MAX_DELAY_MS = 30_000;
/** The longest `Retry-After` the client honours; a longer one is cut to this (and logged). */
export const DEFAULT_MAX_RETRY_AFTER_MS = 300_000;

/** Methods RFC 9110 §9.2.2 calls idempotent: retried automatically. Others (POST, PATCH) only on request. */
const IDEMPOTENT_METHODS = new Set(["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"]);

/** Query parameters: `undefined` values are left out, arrays repeat the parameter. */
export type QueryParams = Record<string, string | number | boolean | undefined | readonly (string | number | boolean)[]>;

/** Options of createHttpClient. */
export interface HttpClientOptions {
  /** Relative request URLs are resolved against it. */
  baseUrl?: string;
  /** Headers sent with every request (a request's own headers win). */
  headers?: Record<string, string>;
  /**
   * How requests authenticate: `apiKeyAuth`, `bearerAuth`, `basicAuth`, `oauth2Auth` or your own.
   * Its secrets are registered with `log`'s redaction, so no log line shows them.
   */
  auth?: HttpAuth;
  /** Shorthand for `auth: oauth2Auth(tokenSource, { header: authorizationHeader })`. */
  tokenSource?: TokenSource;
  /** The header a `tokenSource`'s token goes in: `authorization` by default. */
  authorizationHeader?: string;
  /** Headers timeout and body inactivity timeout per attempt: DEFAULT_REQUEST_TIMEOUT_MS. */
  timeoutMs?: number;
  /** Time limit of one attempt from sending to the last body byte: DEFAULT_REQUEST_DEADLINE_MS (streams: none unless set per request). */
  deadlineMs?: number;
  /** Attempts per request: DEFAULT_MAX_ATTEMPTS. 1 disables retries of errors. */
  maxAttempts?: number;
  /** Retries of throttled responses: DEFAULT_MAX_THROTTLED_RETRIES. */
  maxThrottledRetries?: number;
  /** The first retry's delay: DEFAULT_RETRY_BASE_DELAY_MS. */
  retryBaseDelayMs?: number;
  /** The longest backoff: DEFAULT_RETRY_MAX_DELAY_MS. */
  retryMaxDelayMs?: number;
  /** The longest `Retry-After` (or quota reset) honoured: DEFAULT_MAX_RETRY_AFTER_MS. */
  maxRetryAfterMs?: number;
  /** The adaptive limiter spacing requests; pass one to share it between clients, or `false` for none. */
  rateLimiter?: RateLimiter | false;
  /**
   * The most requests in flight at once (a stream counts until its body is read or dropped);
   * the others wait their turn in call order, before the rate limiter's. Unlimited by default.
   * An API that limits concurrency (GitHub's secondary limits) wants a few at most.
   */
  maxConcurrentRequests?: number;
  /** Requests (at debug level), retries and throttling are logged here (URLs with secrets stripped; never bodies). */
  log?: Logger;
  /** Aborts waits and requests when it fires: pass the capture's `stopping` signal. */
  signal?: AbortSignal;
  /** An undici dispatcher (an Agent with custom TLS or connection limits, a MockAgent in tests). */
  dispatcher?: Dispatcher;
  /** `user-agent` header; `flowcap` by default. */
  userAgent?: string;
}

/** What a response looks like to shouldRetry. */
export interface RetryContext {
  /** The response's status. */
  status: number;
  /** Its headers, names lower-cased. */
  headers: HttpHeaders;
  /** Its body, as text. */
  body: string;
  /** 1 for the first attempt. */
  attempt: number;
}

/** Options of one request. */
export interface RequestOptions {
  /** `GET` by default. */
  method?: string;
  /** Added to the URL's query. */
  query?: QueryParams;
  /** Headers of this request (they win over the client's). */
  headers?: Record<string, string>;
  /** A JSON body (sets `content-type: application/json`). */
  json?: unknown;
  /** A form body (sets `content-type: application/x-www-form-urlencoded`). */
  form?: QueryParams;
  /** A raw body. */
  body?: string | Uint8Array;
  /** Send the client's credentials (`auth` or `tokenSource`): true by default. */
  withAuth?: boolean;
  /** The older name of `withAuth`. */
  withToken?: boolean;
  /** Headers timeout and body inactivity timeout (overrides the client's). */
  timeoutMs?: number;
  /** Time limit of one attempt, sending to last body byte (overrides the client's). */
  deadlineMs?: number;
  /** Aborts this request. */
  signal?: AbortSignal;
  /**
   * Whether the request may be sent again after a failure: by default true for GET, HEAD,
   * OPTIONS, TRACE, PUT and DELETE and false for POST and PATCH, which are retried only when the
   * connection failed before anything was sent (or after a 401 refreshed the token). Set it for a
   * POST that is safe to repeat (a search, a GraphQL query, a request with an idempotency key).
   */
  idempotent?: boolean;
  /**
   * Statuses that are a result rather than an error (the rest throw HttpStatusError): 2xx by
   * default. Return true for 404 to handle "not found" yourself.
   */
  acceptStatus?(status: number): boolean;
  /**
   * Decides whether a failed response is retried (an explicit yes overrides `idempotent`). By
   * default 5xx and throttled responses are; return false to fail at once (an API that answers
   * 500 for a bad query), true to retry another status.
   */
  shouldRetry?(context: RetryContext): boolean;
  /** Attempts for this request (overrides the client's). */
  maxAttempts?: number;
  /**
   * Revalidate through this cache (GET only): a response with an `ETag` or `Last-Modified` is
   * kept, and the next request for the same URL (and `Accept`) sends it back as `If-None-Match`
   * (or `If-Modified-Since`); a `304 Not Modified` is answered with the kept response, marked
   * `notModified`. See createResponseCache.
   */
  cache?: ResponseCache;
}

/** Status, headers and URL of a response: what every helper lets you reach. */
export interface ResponseInfo {
  /** The HTTP status. */
  status: number;
  /** The response headers, names lower-cased (rate limits, totals, `link`). */
  headers: HttpHeaders;
  /** The final URL, secrets stripped (for messages). */
  url: string;
}

/** A response with its body read. */
export interface HttpResponse extends ResponseInfo {
  /** The whole body. */
  body: Buffer;
  /**
   * True when a conditional request (`cache`) was answered `304 Not Modified`: status and body
   * are the cached response's, headers the cached ones updated with the 304's (rate limits, date).
   */
  notModified?: boolean;
  /** The body decoded as UTF-8. */
  text(): string;
  /** Parses the body; throws a FlowcapError naming the URL when it is not JSON. */
  json<T = unknown>(): T;
}

/** A response whose body is read as it arrives. */
export interface StreamingResponse extends ResponseInfo {
  /** The body, read as it arrives (backpressure reaches the server). */
  body: Readable;
}

/** Options of HttpClient.streamItems. */
export interface StreamItemsOptions extends RequestOptions {
  /**
   * `json`: the items of the JSON array at `pointer`; `jsonl`: one JSON value per line. By default
   * `jsonl` when the content-type says JSON lines (`application/x-ndjson`, `application/jsonl`,
   * `application/json-lines`), `json` otherwise.
   */
  format?: "json" | "jsonl";
  /** RFC 6901 pointer to the array in a JSON body: `""` (the body is the array, the default), `/data`. */
  pointer?: string;
  /** The longest item (or line) held: 64 MiB by default. */
  maxItemBytes?: number;
}

/** A response whose body's items are read one at a time. */
export interface ItemsResponse<T> extends ResponseInfo {
  /** The items, parsed as they arrive; iterate it once. Breaking off closes the connection. */
  items: AsyncGenerator<T, void, undefined>;
  /**
   * After `items` is exhausted: the rest of a JSON body with the array left empty
   * (`{"data": [], "next_cursor": "c2"}`), for a cursor that follows the items. Undefined before,
   * and for a top-level array or JSON lines.
   */
  readonly remainder: unknown;
}

/** The client connectors use for HTTP APIs (see createHttpClient). */
export interface HttpClient {
  /** Sends a request, retrying network errors, 5xx and throttled responses, and returns the whole body. */
  request(url: string | URL, options?: RequestOptions): Promise<HttpResponse>;
  /** GET (or `options.method`) and parse JSON. For the headers too, use `request(...).json()`. */
  getJson<T = unknown>(url: string | URL, options?: RequestOptions): Promise<T>;
  /** POST `body` as JSON and parse the JSON answer (not retried unless `idempotent: true`). */
  postJson<T = unknown>(url: string | URL, body: unknown, options?: RequestOptions): Promise<T>;
  /**
   * Streams the body as lines (NDJSON, CSV). Retries apply until the response headers arrive;
   * an error while streaming is thrown to the consumer, who knows where it can resume. For the
   * headers, use `stream()` and `readLines`, or `streamItems({ format: "jsonl" })`.
   */
  lines(url: string | URL, options?: RequestOptions & { maxLineBytes?: number }): AsyncGenerator<string>;
  /** Streams the body as JSON values, one per line (blank lines skipped). */
  jsonLines<T = unknown>(url: string | URL, options?: RequestOptions & { maxLineBytes?: number }): AsyncGenerator<T>;
  /**
   * Streams the items of a large JSON array (at a pointer: `/data`) or JSON-lines body one at a
   * time, never holding the whole body: resolves once the headers are in, with status, headers
   * and the `items` generator. Retries apply until the headers arrive.
   */
  streamItems<T = unknown>(url: string | URL, options?: StreamItemsOptions): Promise<ItemsResponse<T>>;
  /** The response with its body unread, for custom streaming. Retries as `lines` does. */
  stream(url: string | URL, options?: RequestOptions): Promise<StreamingResponse>;
  /**
   * The absolute URL without credentials: user info and the auth's query parameters removed.
   * What a pagination cursor saved in Flow's state must be.
   */
  stripCredentials(url: string | URL): string;
  /** The limiter this client uses (undefined when disabled). */
  readonly rateLimiter: RateLimiter | undefined;
}

/** Network failures worth another attempt: resets, refused or timed-out connections, undici's socket errors. */
const RETRYABLE_NETWORK_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EAI_AGAIN",
  "ENETUNREACH",
  "ENETDOWN",
  "EHOSTUNREACH",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "UND_ERR_REQ_RETRY",
]);

/** Failures that happen before a request is sent: safe to retry whatever the method. */
const NOT_SENT_CODES = new Set(["ECONNREFUSED", "EAI_AGAIN", "ENETUNREACH", "ENETDOWN", "EHOSTUNREACH", "UND_ERR_CONNECT_TIMEOUT"]);

function errorCodes(error: unknown): string[] {
  const codes: string[] = [];
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") codes.push(code);
    if (e.name === "AbortError") break;
  }
  return codes;
}

/** True for an error thrown by a request that another attempt may fix. */
export function isRetryableNetworkError(error: unknown): boolean {
  return errorCodes(error).some((c) => RETRYABLE_NETWORK_CODES.has(c));
}

/** Exponential backoff with jitter: base·2^(n-1), capped, scaled by a random factor in [0.5, 1]. */
export function backoffDelayMs(retry: number, baseMs: number, maxMs: number): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.max(0, retry - 1));
  return Math.round(exp * (0.5 + Math.random() / 2));
}

function encodeParams(params: QueryParams, into: URLSearchParams): URLSearchParams {
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value as readonly unknown[]) into.append(key, String(v));
    else into.append(key, String(value));
  }
  return into;
}

function headerValue(headers: HttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * One attempt's abort signal: the caller's signals plus its deadline. `expired` tells a deadline
 * abort from a stop; `clear` must be called when the attempt is over (the body read or dropped).
 */
function attemptSignal(outer: (AbortSignal | undefined)[], deadlineMs: number | undefined): { signal: AbortSignal; expired(): boolean; stopped(): boolean; clear(): void } {
  const controller = new AbortController();
  let expired = false;
  const onAbort = (event: Event) => controller.abort((event.target as AbortSignal).reason);
  const present = outer.filter((s): s is AbortSignal => s !== undefined);
  for (const s of present) {
    if (s.aborted) controller.abort(s.reason);
    else s.addEventListener("abort", onAbort, { once: true });
  }
  const timer =
    deadlineMs !== undefined && Number.isFinite(deadlineMs)
      ? setTimeout(() => {
          expired = true;
          controller.abort(new FlowcapError("TIMEOUT", "deadline"));
        }, Math.max(0, deadlineMs))
      : undefined;
  return {
    signal: controller.signal,
    expired: () => expired,
    stopped: () => present.some((s) => s.aborted),
    clear: () => {
      if (timer) clearTimeout(timer);
      for (const s of present) s.removeEventListener("abort", onAbort);
    },
  };
}

/** Content types of JSON lines: `application/x-ndjson`, `application/jsonl`, `application/json-lines`, `application/jsonlines`. */
const JSON_LINES_TYPES = /^\s*application\/(x-)?(ndjson|jsonl|json-lines|jsonlines)\b/i;

/** What one attempt loop returns: the accepted response, its body unread, and the attempt's cleanup. */
interface Sent {
  response: Dispatcher.ResponseData;
  method: string;
  shown: string;
  attempt: number;
  /** The deadline of the attempt expired (while the body was read). */
  expired(): boolean;
  stopped(): boolean;
  clear(): void;
}

/**
 * Creates the HTTP client connectors use: undici underneath, per-attempt timeouts and an overall
 * deadline, retries of network errors, 5xx and throttled responses with exponential backoff (only
 * for idempotent requests unless the caller says otherwise), `Retry-After` and rate-limit headers
 * obeyed by an adaptive rate limiter shared by every request, credentials from an HttpAuth
 * (kept out of every log line and shown URL; an OAuth token refreshed once on a 401), and
 * HttpStatusError for other statuses.
 */
export function createHttpClient(options: HttpClientOptions = {}): HttpClient {
  const timeoutMs = options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const baseDelay = options.retryBaseDelayMs ?? DEFAULT_RETRY_BASE_DELAY_MS;
  const maxDelay = options.retryMaxDelayMs ?? DEFAULT_RETRY_MAX_DELAY_MS;
  const maxRetryAfter = options.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS;
  const maxThrottled = options.maxThrottledRetries ?? DEFAULT_MAX_THROTTLED_RETRIES;
  const log = options.log;
  const slots = options.maxConcurrentRequests === undefined ? undefined : new Semaphore(options.maxConcurrentRequests);
  const auth: HttpAuth | undefined = options.auth ?? (options.tokenSource ? oauth2Auth(options.tokenSource, options.authorizationHeader ? { header: options.authorizationHeader } : {}) : undefined);
  const authParams = auth?.queryParams ?? [];
  if (auth?.secrets) log?.redactor.add(auth.secrets);
  const limiter =
    options.rateLimiter === false
      ? undefined
      : (options.rateLimiter ??
        new RateLimiter({
          maxPauseMs: maxRetryAfter,
          // A pause of seconds is routine (a per-second quota); a long one is worth telling the user.
          onPause: (untilMs, reason) =>
            log?.log(untilMs - Date.now() >= 10_000 ? "info" : "debug", `${reason === "quota" ? "the API's rate-limit quota is spent" : "the API asked to retry later"}: requests wait until ${new Date(untilMs).toISOString()}`),
          onMaxInterval: (ms) => log?.warn(`the API keeps throttling requests: they are now spaced ${Math.round(ms / 1000)} s apart`),
        }));

  const resolveUrl = (url: string | URL, query?: QueryParams): URL => {
    let resolved: URL;
    try {
      resolved = options.baseUrl ? new URL(url, options.baseUrl) : new URL(url);
    } catch (error) {
      throw new FlowcapError("INTERNAL", `not a valid URL: ${redactUrl(String(url), authParams)}`, { cause: error });
    }
    if (query) encodeParams(query, resolved.searchParams);
    return resolved;
  };

  const stripCredentials = (url: string | URL): string => {
    const u = resolveUrl(url);
    u.username = "";
    u.password = "";
    for (const name of authParams) u.searchParams.delete(name);
    return u.href;
  };

  const buildBody = (req: RequestOptions, headers: Record<string, string>): string | Uint8Array | undefined => {
    if (req.json !== undefined) {
      headers["content-type"] ??= "application/json";
      return JSON.stringify(req.json);
    }
    if (req.form !== undefined) {
      headers["content-type"] ??= "application/x-www-form-urlencoded";
      return encodeParams(req.form, new URLSearchParams()).toString();
    }
    return req.body;
  };

  const stopped = (method: string, shown: string) => new StoppedError(`request ${method} ${shown} cancelled`);

  /**
   * Sends with retries until a response is accepted; with `read`, reads its body inside the
   * attempt (so the deadline covers it and a body that breaks off is retried).
   */
  const send = async (url: string | URL, req: RequestOptions, read: boolean, deadlineMs: number | undefined): Promise<Sent & { body?: Buffer }> => {
    const base = resolveUrl(url, req.query);
    // The key of an API-key-in-query auth is removed even if the URL already carries it (a next link that echoes it).
    for (const name of authParams) base.searchParams.delete(name);
    const method = (req.method ?? "GET").toUpperCase();
    const shown = redactUrl(base, authParams);
    const attempts = Math.max(1, req.maxAttempts ?? options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS);
    const idempotent = req.idempotent ?? IDEMPOTENT_METHODS.has(method);
    const accept = req.acceptStatus ?? ((s: number) => s >= 200 && s < 300);
    const useAuth = auth !== undefined && req.withAuth !== false && req.withToken !== false;
    const waitSignal = options.signal && req.signal ? AbortSignal.any([options.signal, req.signal]) : (options.signal ?? req.signal);
    let refreshedAfter401 = false;
    let throttledRetries = 0;

    for (let attempt = 1; ; attempt++) {
      if (waitSignal?.aborted) throw stopped(method, shown);
      const headers: Record<string, string> = { "user-agent": options.userAgent ?? "flowcap", ...lowerKeys(options.headers), ...lowerKeys(req.headers) };
      const body = buildBody(req, headers);
      const target = new URL(base);
      const turn: RateLimitTurn | undefined = limiter ? await limiter.acquire(waitSignal) : undefined;
      if (limiter && !turn) throw stopped(method, shown);
      // After the wait for a turn, which can be long: an OAuth token is fetched when it is used.
      let applied: AppliedAuth | undefined;
      if (useAuth) {
        try {
          applied = await auth!.apply({ headers, url: target }, waitSignal ? { signal: waitSignal } : {});
        } catch (error) {
          turn?.complete();
          throw error;
        }
        log?.redactor.add(applied.secrets);
      }

      const started = Date.now();
      const att = attemptSignal([options.signal, req.signal], deadlineMs);
      const deadlineError = () =>
        new FlowcapError("TIMEOUT", `${method} ${shown}: no complete response within ${formatMs(deadlineMs!)} (the request's deadline)`, { data: { method, url: shown, deadlineMs } });
      let response: Dispatcher.ResponseData;
      try {
        // undici is loaded with the first request: a cold `spec` does not pay for it.
        const { request: undiciRequest } = await import("undici");
        response = await undiciRequest(target, {
          method: method as Dispatcher.HttpMethod,
          headers,
          body,
          signal: att.signal,
          headersTimeout: req.timeoutMs ?? timeoutMs,
          bodyTimeout: req.timeoutMs ?? timeoutMs,
          dispatcher: options.dispatcher,
        });
      } catch (error) {
        att.clear();
        turn?.complete();
        if (att.stopped()) throw stopped(method, shown);
        const timedOut = att.expired();
        const reason = timedOut ? `no response within the ${formatMs(deadlineMs!)} deadline` : describeNetworkError(error);
        const sendable = idempotent || errorCodes(error).some((c) => NOT_SENT_CODES.has(c));
        if (attempt < attempts && sendable && (timedOut || isRetryableNetworkError(error))) {
          const delay = backoffDelayMs(attempt, baseDelay, maxDelay);
          log?.warn(`${method} ${shown} failed (${reason}); retrying in ${delay} ms (attempt ${attempt + 1} of ${attempts})`);
          if (!(await sleep(delay, waitSignal))) throw stopped(method, shown);
          continue;
        }
        if (timedOut) throw deadlineError();
        const hint = !sendable && isRetryableNetworkError(error) ? ` (not retried: ${method} is not idempotent; pass idempotent: true if repeating it is safe)` : "";
        throw new FlowcapError("HTTP_NETWORK", `${method} ${shown} failed${attempt > 1 ? ` after ${attempt} attempts` : ""}: ${reason}${hint}`, { cause: error, data: { method, url: shown } });
      }

      const status = response.statusCode;
      turn?.complete({ status, headers: response.headers });
      if (log?.enabled("debug")) log.debug(`${method} ${shown} answered HTTP ${status} in ${Date.now() - started} ms`);
      if (accept(status)) {
        const sent: Sent = { response, method, shown, attempt, expired: att.expired, stopped: att.stopped, clear: att.clear };
        if (!read) return sent;
        try {
          const bytes = Buffer.from(await response.body.arrayBuffer());
          att.clear();
          return { ...sent, body: bytes };
        } catch (error) {
          att.clear();
          if (att.stopped()) throw stopped(method, shown);
          const timedOut = att.expired();
          if (attempt < attempts && idempotent && (timedOut || isRetryableNetworkError(error))) {
            const delay = backoffDelayMs(attempt, baseDelay, maxDelay);
            const why = timedOut ? `it did not complete within the ${formatMs(deadlineMs!)} deadline` : `it broke off (${describeNetworkError(error)})`;
            log?.warn(`${method} ${shown}: reading the response failed: ${why}; retrying in ${delay} ms (attempt ${attempt + 1} of ${attempts})`);
            if (!(await sleep(delay, waitSignal))) throw stopped(method, shown);
            continue;
          }
          if (timedOut) throw deadlineError();
          throw new FlowcapError("HTTP_NETWORK", `${method} ${shown}: reading the response failed: ${describeNetworkError(error)}`, { cause: error, data: { method, url: shown } });
        }
      }

      // A failed status: read the body (bounded by the timeouts) for the retry decision and the error.
      let text = "";
      try {
        text = await response.body.text();
      } catch {
        // The body is only for the message.
      }
      att.clear();
      if (status === 401 && applied?.invalidate && !refreshedAfter401) {
        refreshedAfter401 = true;
        if (applied.invalidate()) {
          log?.debug(`${method} ${shown} answered HTTP 401; retrying once with fresh credentials`);
          attempt--;
          continue;
        }
      }
      const info = parseRateLimitHeaders(response.headers);
      const throttled = isRateLimitedResponse(status, response.headers, info);
      const context: RetryContext = { status, headers: response.headers, body: text, attempt };
      const retry = req.shouldRetry ? req.shouldRetry(context) : idempotent && (status >= 500 || throttled);
      const budgetLeft = throttled ? throttledRetries < maxThrottled : attempt < attempts;
      if (retry && budgetLeft) {
        const retryAt = info?.retryAtMs ?? (throttled && info?.remaining === 0 ? info.resetAtMs : undefined);
        const after = retryAt === undefined ? undefined : Math.max(0, retryAt - Date.now());
        if (after !== undefined && after > maxRetryAfter) log?.warn(`${method} ${shown} asked to retry after ${Math.round(after / 1000)} s; waiting ${Math.round(maxRetryAfter / 1000)} s instead`);
        let delay: number;
        if (throttled && limiter) {
          // The limiter has slowed down and holds every request (this retry too) until the API's pause ends.
          delay = 0;
        } else {
          delay = after !== undefined && (throttled || status === 503) ? Math.min(after, maxRetryAfter) : backoffDelayMs(attempt, baseDelay, maxDelay);
        }
        if (throttled) {
          throttledRetries++;
          // A throttled response is not a failure of the request: it has its own budget.
          attempt--;
        }
        const shownDelay = throttled && limiter ? Math.max(0, limiter.pausedUntil - Date.now(), Math.round(limiter.currentIntervalMs)) : delay;
        log?.warn(`${method} ${shown} answered HTTP ${status}; retrying in ${shownDelay} ms (${throttled ? `throttled ${throttledRetries} of ${maxThrottled} times` : `attempt ${attempt + 1} of ${attempts}`})`);
        if (!(await sleep(delay, waitSignal))) throw stopped(method, shown);
        continue;
      }
      throw new HttpStatusError({ status, method, url: shown, headers: response.headers, body: text });
    }
  };

  /** Waits for a slot under maxConcurrentRequests; the function that frees it (a no-op without the option). */
  const takeSlot = async (url: string | URL, req: RequestOptions): Promise<() => void> => {
    if (!slots) return () => {};
    const signal = options.signal && req.signal ? AbortSignal.any([options.signal, req.signal]) : (options.signal ?? req.signal);
    const release = await slots.acquire(signal);
    if (!release) throw stopped((req.method ?? "GET").toUpperCase(), redactUrl(resolveUrl(url, req.query), authParams));
    return release;
  };

  const request = async (url: string | URL, req: RequestOptions = {}): Promise<HttpResponse> => {
    const method = (req.method ?? "GET").toUpperCase();
    let key: string | undefined;
    let cached: CachedResponse | undefined;
    let conditional = req;
    if (req.cache && method === "GET") {
      key = cacheKey(url, req);
      cached = req.cache.get(key);
      if (cached) {
        const accept = req.acceptStatus ?? ((s: number) => s >= 200 && s < 300);
        const validator: Record<string, string> = cached.etag ? { "if-none-match": cached.etag } : { "if-modified-since": cached.lastModified! };
        conditional = { ...req, headers: { ...req.headers, ...validator }, acceptStatus: (s) => s === 304 || accept(s) };
      }
    }
    const release = await takeSlot(url, req);
    let sent: Sent & { body?: Buffer };
    try {
      sent = await send(url, conditional, true, req.deadlineMs ?? options.deadlineMs ?? DEFAULT_REQUEST_DEADLINE_MS);
    } finally {
      release();
    }
    const { statusCode: status, headers } = sent.response;
    if (cached && status === 304) {
      // RFC 9111 §4.3.4: the stored response, its headers updated by the 304's.
      const fresh = Object.fromEntries(Object.entries(headers).filter(([name]) => !REPRESENTATION_HEADERS.has(name)));
      return makeResponse(cached.status, { ...cached.headers, ...fresh }, sent.shown, cached.body, true);
    }
    if (key !== undefined && status === 200) {
      const etag = headerValue(headers, "etag");
      const lastModified = headerValue(headers, "last-modified");
      if (etag || lastModified) req.cache!.set(key, { etag, lastModified, status, headers, body: sent.body! });
      else req.cache!.delete(key);
    }
    return makeResponse(status, headers, sent.shown, sent.body!);
  };

  /** What a cached response is kept under: the URL without credentials, and the Accept it answered (GitHub varies on it). */
  const cacheKey = (url: string | URL, req: RequestOptions): string => {
    const u = resolveUrl(url, req.query);
    for (const name of authParams) u.searchParams.delete(name);
    const accept = lowerKeys(req.headers).accept ?? lowerKeys(options.headers).accept ?? "";
    return `${u.href}\n${accept}`;
  };

  /** Sends and returns the body unread; the deadline (if any) keeps running while it is read. */
  const openStream = async (url: string | URL, req: RequestOptions): Promise<Sent> => {
    const release = await takeSlot(url, req);
    let sent: Sent;
    try {
      sent = await send(url, req, false, req.deadlineMs ?? undefined);
    } catch (error) {
      release();
      throw error;
    }
    sent.response.body.once("close", () => {
      sent.clear();
      release();
    });
    return sent;
  };

  /** Turns an error thrown while a body streams into the client's errors (stop, deadline). */
  const streamError = (sent: Sent, error: unknown): unknown => {
    if (sent.stopped()) return stopped(sent.method, sent.shown);
    if (sent.expired()) return new FlowcapError("TIMEOUT", `${sent.method} ${sent.shown}: the response did not complete within the request's deadline`, { cause: error });
    if (error instanceof FlowcapError) return error;
    return new FlowcapError("HTTP_NETWORK", `${sent.method} ${sent.shown}: reading the response failed: ${describeNetworkError(error)}`, { cause: error });
  };

  const stream = async (url: string | URL, req: RequestOptions = {}): Promise<StreamingResponse> => {
    const sent = await openStream(url, req);
    return { status: sent.response.statusCode, headers: sent.response.headers, url: sent.shown, body: sent.response.body };
  };

  async function* lines(url: string | URL, req: RequestOptions & { maxLineBytes?: number } = {}): AsyncGenerator<string> {
    const sent = await openStream(url, req);
    const body = sent.response.body;
    try {
      for await (const line of readLines(body, { maxLineBytes: req.maxLineBytes })) yield line.text;
    } catch (error) {
      throw streamError(sent, error);
    } finally {
      body.destroy();
    }
  }

  async function* jsonLines<T>(url: string | URL, req: RequestOptions & { maxLineBytes?: number } = {}): AsyncGenerator<T> {
    const shown = redactUrl(String(url), authParams);
    let n = 0;
    for await (const line of lines(url, req)) {
      n++;
      if (line.trim() === "") continue;
      try {
        yield JSON.parse(line) as T;
      } catch (error) {
        throw new FlowcapError("HTTP_BODY_INVALID", `${shown}: line ${n} of the response is not JSON: ${line.slice(0, 200)}`, { cause: error });
      }
    }
  }

  const streamItems = async <T>(url: string | URL, req: StreamItemsOptions = {}): Promise<ItemsResponse<T>> => {
    const sent = await openStream(url, { ...req, headers: { accept: "application/json", ...req.headers } });
    const { response, shown } = sent;
    const format = req.format ?? (JSON_LINES_TYPES.test(headerValue(response.headers, "content-type") ?? "") ? "jsonl" : "json");
    let remainder: unknown;
    async function* items(): AsyncGenerator<T, void, undefined> {
      const body = response.body;
      try {
        if (format === "jsonl") {
          for await (const line of readLines(body, req.maxItemBytes !== undefined ? { maxLineBytes: req.maxItemBytes } : {})) {
            if (line.text.trim() === "") continue;
            let value: T;
            try {
              value = JSON.parse(line.text) as T;
            } catch (error) {
              throw new FlowcapError("HTTP_BODY_INVALID", `${shown}: line ${line.number} of the response is not JSON: ${line.text.slice(0, 200)}`, { cause: error });
            }
            yield value;
          }
          return;
        }
        const splitter = new JsonArraySplitter({ pointer: req.pointer ?? "", source: shown, ...(req.maxItemBytes !== undefined ? { maxItemBytes: req.maxItemBytes } : {}) });
        for await (const chunk of body) {
          const parsed = splitter.push(chunk as Buffer);
          for (let k = 0; k < parsed.length; k++) yield parsed[k] as T;
        }
        splitter.end();
        remainder = splitter.remainder;
      } catch (error) {
        throw streamError(sent, error);
      } finally {
        body.destroy();
      }
    }
    return {
      status: response.statusCode,
      headers: response.headers,
      url: shown,
      items: items(),
      get remainder() {
        return remainder;
      },
    };
  };

  return {
    request,
    getJson: async <T>(url: string | URL, req: RequestOptions = {}) => (await request(url, { ...req, headers: { accept: "application/json", ...req.headers } })).json<T>(),
    postJson: async <T>(url: string | URL, body: unknown, req: RequestOptions = {}) =>
      (await request(url, { ...req, method: req.method ?? "POST", json: body, headers: { accept: "application/json", ...req.headers } })).json<T>(),
    lines,
    jsonLines,
    streamItems,
    stream,
    stripCredentials,
    rateLimiter: limiter,
  };
}

/** `300 ms`, `45 s`, `5 min`: a duration as a person reads it in a message. */
function formatMs(ms: number): string {
  if (ms < 10_000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`;
  return `${Math.round(ms / 60_000)} min`;
}

function lowerKeys(headers: Record<string, string> | undefined): Record<string, string> {
  if (!headers) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) out[k.toLowerCase()] = v;
  return out;
}

function describeNetworkError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
  return `${typeof code === "string" ? `${code} ` : ""}${error.message}${cause}`.trim();
}

/** Headers of a 304 that describe its (empty) body rather than the cached representation. */
const REPRESENTATION_HEADERS = new Set(["content-length", "content-type", "content-encoding", "transfer-encoding"]);

function makeResponse(status: number, headers: HttpHeaders, url: string, body: Buffer, notModified?: boolean): HttpResponse {
  return {
    status,
    headers,
    url,
    body,
    ...(notModified ? { notModified } : {}),
    text: () => body.toString("utf8"),
    json<T>(): T {
      try {
        return JSON.parse(body.toString("utf8")) as T;
      } catch (error) {
        const type = headerValue(headers, "content-type") ?? "no content-type";
        throw new FlowcapError("HTTP_BODY_INVALID", `${url} answered HTTP ${status} with a body that is not JSON (${type}): ${body.toString("utf8").slice(0, 200)}`, { cause: error });
      }
    },
  };
}
