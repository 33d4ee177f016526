import type { Readable } from "node:stream";
import { request as undiciRequest, type Dispatcher } from "undici";
import { readLines } from "../../protocol/index.js";
import type { Logger } from "../../runtime/index.js";
import { sleep } from "../../util/abort.js";
import { FlowcapError, StoppedError } from "../../util/errors.js";
import { HttpStatusError, redactUrl } from "./errors.js";
import { RateLimiter } from "./rateLimiter.js";
import { authorizationValue, type AccessToken, type TokenSource } from "./tokenSource.js";

/** How long a request may wait for response headers, and for each chunk of the body: 60 s. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;
/** Attempts per request (the first try included) before a network error, 5xx or 429 is final. */
export const DEFAULT_MAX_ATTEMPTS = 5;
/** The first retry's delay; each further retry doubles it (with jitter). */
export const DEFAULT_RETRY_BASE_DELAY_MS = 500;
/** The longest backoff between two attempts. */
export const DEFAULT_RETRY_MAX_DELAY_MS = 30_000;
/** The longest `Retry-After` the client honours; a longer one is cut to this (and logged). */
export const DEFAULT_MAX_RETRY_AFTER_MS = 300_000;

/** Header values as undici returns them. */
export type HttpHeaders = Record<string, string | string[] | undefined>;

/** Query parameters: `undefined` values are left out, arrays repeat the parameter. */
export type QueryParams = Record<string, string | number | boolean | undefined | readonly (string | number | boolean)[]>;

export interface HttpClientOptions {
  /** Relative request URLs are resolved against it. */
  baseUrl?: string;
  /** Headers sent with every request (a request's own headers win). */
  headers?: Record<string, string>;
  /** Where bearer tokens come from; requests send `Authorization: <type> <token>` unless `withToken: false`. */
  tokenSource?: TokenSource;
  /** The header the token goes in: `authorization` by default. */
  authorizationHeader?: string;
  /** Headers timeout and body inactivity timeout per attempt: DEFAULT_REQUEST_TIMEOUT_MS. */
  timeoutMs?: number;
  /** Attempts per request: DEFAULT_MAX_ATTEMPTS. 1 disables retries. */
  maxAttempts?: number;
  retryBaseDelayMs?: number;
  retryMaxDelayMs?: number;
  maxRetryAfterMs?: number;
  /** The adaptive limiter spacing requests; pass one to share it between clients, or `false` for none. */
  rateLimiter?: RateLimiter | false;
  /** Retries and throttling are logged here (URLs with secrets stripped; never bodies). */
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
  status: number;
  headers: HttpHeaders;
  body: string;
  /** 1 for the first attempt. */
  attempt: number;
}

export interface RequestOptions {
  /** `GET` by default. */
  method?: string;
  query?: QueryParams;
  headers?: Record<string, string>;
  /** A JSON body (sets `content-type: application/json`). */
  json?: unknown;
  /** A form body (sets `content-type: application/x-www-form-urlencoded`). */
  form?: QueryParams;
  /** A raw body. */
  body?: string | Uint8Array;
  /** Send the token source's token: true by default when the client has one. */
  withToken?: boolean;
  timeoutMs?: number;
  signal?: AbortSignal;
  /**
   * Statuses that are a result rather than an error (the rest throw HttpStatusError): 2xx by
   * default. Return true for 404 to handle "not found" yourself.
   */
  acceptStatus?(status: number): boolean;
  /**
   * Decides whether a failed response is retried. By default 5xx and 429 are; return false to
   * fail at once (an API that answers 500 for a bad query), true to retry another status.
   */
  shouldRetry?(context: RetryContext): boolean;
  /** Attempts for this request (overrides the client's). */
  maxAttempts?: number;
}

export interface HttpResponse {
  status: number;
  headers: HttpHeaders;
  /** The final URL, secrets stripped (for messages). */
  url: string;
  body: Buffer;
  text(): string;
  /** Parses the body; throws a FlowcapError naming the URL when it is not JSON. */
  json<T = unknown>(): T;
}

export interface StreamingResponse {
  status: number;
  headers: HttpHeaders;
  url: string;
  /** The body, read as it arrives (backpressure reaches the server). */
  body: Readable;
}

export interface HttpClient {
  /** Sends a request, retrying network errors, 5xx and 429, and returns the whole body. */
  request(url: string | URL, options?: RequestOptions): Promise<HttpResponse>;
  /** GET (or `options.method`) and parse JSON. */
  getJson<T = unknown>(url: string | URL, options?: RequestOptions): Promise<T>;
  /** POST `body` as JSON and parse the JSON answer. */
  postJson<T = unknown>(url: string | URL, body: unknown, options?: RequestOptions): Promise<T>;
  /**
   * Streams the body as lines (NDJSON, CSV). Retries apply until the response headers arrive;
   * an error while streaming is thrown to the consumer, who knows where it can resume.
   */
  lines(url: string | URL, options?: RequestOptions & { maxLineBytes?: number }): AsyncGenerator<string>;
  /** Streams the body as JSON values, one per line (blank lines skipped). */
  jsonLines<T = unknown>(url: string | URL, options?: RequestOptions & { maxLineBytes?: number }): AsyncGenerator<T>;
  /** The response with its body unread, for custom streaming. Retries as `lines` does. */
  stream(url: string | URL, options?: RequestOptions): Promise<StreamingResponse>;
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

/** True for an error thrown by a request that another attempt may fix. */
export function isRetryableNetworkError(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && RETRYABLE_NETWORK_CODES.has(code)) return true;
    if (e.name === "AbortError") return false;
  }
  return false;
}

/**
 * Reads `Retry-After` (RFC 9110 §10.2.3): delay-seconds or an HTTP date. Returns milliseconds
 * from `nowMs`, or undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | string[] | undefined, nowMs = Date.now()): number | undefined {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!text) return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
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

function anySignal(signals: (AbortSignal | undefined)[]): AbortSignal | undefined {
  const present = signals.filter((s): s is AbortSignal => s !== undefined);
  if (present.length <= 1) return present[0];
  return AbortSignal.any(present);
}

/**
 * Creates the HTTP client connectors use: undici underneath, per-attempt timeouts, retries of
 * network errors, 5xx and 429 with exponential backoff, `Retry-After` honoured on 429 and 503,
 * an adaptive rate limiter, bearer tokens from a TokenSource (refreshed once on a 401), and
 * HttpStatusError for other statuses, with secrets stripped from the URL.
 */
export function createHttpClient(options: HttpClientOptions = {}): HttpClient {
  const timeoutMs = options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const baseDelay = options.retryBaseDelayMs ?? DEFAULT_RETRY_BASE_DELAY_MS;
  const maxDelay = options.retryMaxDelayMs ?? DEFAULT_RETRY_MAX_DELAY_MS;
  const maxRetryAfter = options.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS;
  const authHeader = (options.authorizationHeader ?? "authorization").toLowerCase();
  const log = options.log;
  const limiter =
    options.rateLimiter === false
      ? undefined
      : (options.rateLimiter ??
        new RateLimiter({
          onMaxInterval: (ms) => log?.warn(`the API keeps answering HTTP 429: requests are now spaced ${Math.round(ms / 1000)} s apart`),
        }));

  const resolveUrl = (url: string | URL, query?: QueryParams): URL => {
    let resolved: URL;
    try {
      resolved = options.baseUrl ? new URL(url, options.baseUrl) : new URL(url);
    } catch (error) {
      throw new FlowcapError("INTERNAL", `not a valid URL: ${redactUrl(String(url))}`, { cause: error });
    }
    if (query) encodeParams(query, resolved.searchParams);
    return resolved;
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

  /** Sends with retries; returns the response with its body unread (the caller reads or dumps it). */
  const send = async (url: string | URL, req: RequestOptions): Promise<{ response: Dispatcher.ResponseData; target: URL; method: string }> => {
    const target = resolveUrl(url, req.query);
    const method = (req.method ?? "GET").toUpperCase();
    const shown = redactUrl(target);
    const signal = anySignal([options.signal, req.signal]);
    const attempts = Math.max(1, req.maxAttempts ?? options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS);
    const accept = req.acceptStatus ?? ((s: number) => s >= 200 && s < 300);
    const useToken = options.tokenSource !== undefined && req.withToken !== false;
    let refreshedAfter401 = false;

    for (let attempt = 1; ; attempt++) {
      if (signal?.aborted) throw new StoppedError(`request ${method} ${shown} cancelled`);
      const headers: Record<string, string> = { "user-agent": options.userAgent ?? "flowcap", ...lowerKeys(options.headers), ...lowerKeys(req.headers) };
      const body = buildBody(req, headers);
      let token: AccessToken | undefined;
      if (useToken) {
        token = await options.tokenSource!.getToken({ signal });
        headers[authHeader] = authorizationValue(token);
      }
      if (limiter && !(await limiter.acquire(signal))) throw new StoppedError(`request ${method} ${shown} cancelled`);

      let response: Dispatcher.ResponseData;
      try {
        response = await undiciRequest(target, {
          method: method as Dispatcher.HttpMethod,
          headers,
          body,
          signal,
          headersTimeout: req.timeoutMs ?? timeoutMs,
          bodyTimeout: req.timeoutMs ?? timeoutMs,
          dispatcher: options.dispatcher,
        });
      } catch (error) {
        if (signal?.aborted) throw new StoppedError(`request ${method} ${shown} cancelled`);
        const reason = describeNetworkError(error);
        if (attempt < attempts && isRetryableNetworkError(error)) {
          const delay = backoffDelayMs(attempt, baseDelay, maxDelay);
          log?.warn(`${method} ${shown} failed (${reason}); retrying in ${delay} ms (attempt ${attempt + 1} of ${attempts})`);
          if (!(await sleep(delay, signal))) throw new StoppedError(`request ${method} ${shown} cancelled`);
          continue;
        }
        throw new FlowcapError("HTTP_NETWORK", `${method} ${shown} failed${attempt > 1 ? ` after ${attempt} attempts` : ""}: ${reason}`, { cause: error, data: { method, url: shown } });
      }

      const status = response.statusCode;
      limiter?.record(status);
      if (accept(status)) return { response, target, method };

      // A failed status: read the body (bounded by the timeouts) for the retry decision and the error.
      let text = "";
      try {
        text = await response.body.text();
      } catch {
        // The body is only for the message.
      }
      if (status === 401 && token && options.tokenSource?.invalidate && !refreshedAfter401) {
        refreshedAfter401 = true;
        options.tokenSource.invalidate(token);
        log?.debug(`${method} ${shown} answered HTTP 401; retrying once with a fresh token`);
        attempt--;
        continue;
      }
      const context: RetryContext = { status, headers: response.headers, body: text, attempt };
      const retry = req.shouldRetry ? req.shouldRetry(context) : status >= 500 || status === 429;
      if (retry && attempt < attempts) {
        let delay = backoffDelayMs(attempt, baseDelay, maxDelay);
        if (status === 429 || status === 503) {
          const after = parseRetryAfter(headerValue(response.headers, "retry-after"));
          if (after !== undefined) {
            if (after > maxRetryAfter) log?.warn(`${method} ${shown} asked to retry after ${Math.round(after / 1000)} s; waiting ${Math.round(maxRetryAfter / 1000)} s instead`);
            delay = Math.min(after, maxRetryAfter);
          }
        }
        log?.warn(`${method} ${shown} answered HTTP ${status}; retrying in ${delay} ms (attempt ${attempt + 1} of ${attempts})`);
        if (!(await sleep(delay, signal))) throw new StoppedError(`request ${method} ${shown} cancelled`);
        continue;
      }
      throw new HttpStatusError({ status, method, url: target.href, headers: response.headers, body: text });
    }
  };

  const request = async (url: string | URL, req: RequestOptions = {}): Promise<HttpResponse> => {
    const attempts = Math.max(1, req.maxAttempts ?? options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS);
    // A body that breaks off is a network error too: retry the whole request.
    for (let attempt = 1; ; attempt++) {
      const { response, target, method } = await send(url, { ...req, maxAttempts: attempts - attempt + 1 });
      const shown = redactUrl(target);
      let body: Buffer;
      try {
        body = Buffer.from(await response.body.arrayBuffer());
      } catch (error) {
        if (attempt < attempts && isRetryableNetworkError(error)) {
          const delay = backoffDelayMs(attempt, baseDelay, maxDelay);
          log?.warn(`${method} ${shown}: the response body broke off (${describeNetworkError(error)}); retrying in ${delay} ms`);
          if (!(await sleep(delay, anySignal([options.signal, req.signal])))) throw new StoppedError(`request ${method} ${shown} cancelled`);
          continue;
        }
        throw new FlowcapError("HTTP_NETWORK", `${method} ${shown}: reading the response failed: ${describeNetworkError(error)}`, { cause: error });
      }
      return makeResponse(response.statusCode, response.headers, shown, body);
    }
  };

  const stream = async (url: string | URL, req: RequestOptions = {}): Promise<StreamingResponse> => {
    const { response, target } = await send(url, req);
    return { status: response.statusCode, headers: response.headers, url: redactUrl(target), body: response.body };
  };

  async function* lines(url: string | URL, req: RequestOptions & { maxLineBytes?: number } = {}): AsyncGenerator<string> {
    const { body } = await stream(url, req);
    try {
      for await (const line of readLines(body, { maxLineBytes: req.maxLineBytes })) yield line.text;
    } finally {
      body.destroy();
    }
  }

  async function* jsonLines<T>(url: string | URL, req: RequestOptions & { maxLineBytes?: number } = {}): AsyncGenerator<T> {
    const shown = redactUrl(String(url));
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

  return {
    request,
    getJson: async <T>(url: string | URL, req: RequestOptions = {}) => (await request(url, { ...req, headers: { accept: "application/json", ...req.headers } })).json<T>(),
    postJson: async <T>(url: string | URL, body: unknown, req: RequestOptions = {}) =>
      (await request(url, { ...req, method: req.method ?? "POST", json: body, headers: { accept: "application/json", ...req.headers } })).json<T>(),
    lines,
    jsonLines,
    stream,
    rateLimiter: limiter,
  };
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

function makeResponse(status: number, headers: HttpHeaders, url: string, body: Buffer): HttpResponse {
  return {
    status,
    headers,
    url,
    body,
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
