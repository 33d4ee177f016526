import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { FlowcapError } from "../util/errors.js";

/** A request as a fixture handler sees it. */
export interface FixtureRequest {
  /** Upper-case: `GET`, `POST`. */
  method: string;
  /** The path without the query: `/v1/items`. */
  path: string;
  /** The query parameters. */
  query: URLSearchParams;
  /** Header names lower-cased. */
  headers: IncomingMessage["headers"];
  /** The body as text. */
  body: string;
  /** The body parsed as JSON (throws if it is not). */
  json<T = unknown>(): T;
  /** Route parameters: `/repos/:owner/:repo` matched against `/repos/a/b` gives `{ owner: "a", repo: "b" }`. */
  params: Record<string, string>;
}

/** What a handler answers. `json` or `body` (not both); `status` 200 by default. */
export interface FixtureResponse {
  /** 200 by default. */
  status?: number;
  /** Response headers. */
  headers?: Record<string, string | string[]>;
  /** Sent as JSON with `content-type: application/json`. */
  json?: unknown;
  /** Sent as it is. */
  body?: string | Buffer;
  /** Waits this long before answering (a slow API). */
  delayMs?: number;
}

/**
 * A route handler: answer with a FixtureResponse, or write to `res` yourself (a body that trickles,
 * a connection that drops) and return nothing.
 */
export type FixtureHandler = (req: FixtureRequest, res: ServerResponse) => FixtureResponse | void | Promise<FixtureResponse | void>;

/** One request the server received, for assertions. */
export interface RecordedRequest {
  /** Upper-case. */
  method: string;
  /** The path without the query. */
  path: string;
  /** The query parameters (the last value of a repeated one). */
  query: Record<string, string>;
  /** Header names lower-cased: assert on credentials here. */
  headers: IncomingMessage["headers"];
  /** The body as text. */
  body: string;
  /** The status answered (0 when the handler dropped the connection or never answered). */
  status: number;
  /** When it arrived (Date.now()). */
  at: number;
}

/** How a collection is paginated, as the server answers it. */
export type FixturePagination =
  /** GitHub style: `?page=N&per_page=M`, the body is the array, a `Link` header with next/prev/first/last. */
  | "link"
  /**
   * `?cursor=C&limit=M`: `{ "data": [...], "next_cursor": "..." | null }`. The cursor is opaque but
   * holds an offset, as many APIs' do: records that change order between two pages shift it. For
   * a keyset cursor, serve the pages from a `route`.
   */
  | "cursor"
  /** `?offset=N&limit=M`: `{ "data": [...], "total": T }`. */
  | "offset"
  /** `?page=N&per_page=M`: `{ "data": [...], "page": N, "total_pages": P }`. */
  | "page";

/** Options of a paginated collection. */
export interface CollectionOptions {
  /** `link` by default. */
  pagination?: FixturePagination;
  /** Records per page when the request does not say: 10 by default. */
  pageSize?: number;
  /** The largest page size a request may ask for: 100 by default. */
  maxPageSize?: number;
  /** Keeps only the records a request asks for (`?since=...`), before pagination. */
  filter?(item: unknown, req: FixtureRequest): boolean;
}

/** A failure to inject into the next matching requests. */
export interface InjectedFailure {
  /** Only requests to this path (exact, without the query); any path when absent. */
  path?: string;
  /** Only requests with this method. */
  method?: string;
  /** The status to answer: 429, 500, 503, ... */
  status: number;
  /** How many requests get it: 1 by default. */
  times?: number;
  /** Headers to send (`{ "retry-after": "1" }`). */
  headers?: Record<string, string>;
  /** The body: `{"error": ...}` by default. */
  body?: string;
  /** Drop the connection instead of answering (status is ignored). */
  drop?: boolean;
}

/** A rate limit the server enforces with 429s. */
export interface FixtureRateLimit {
  /** Requests allowed per window. */
  limit: number;
  /** The window: 1000 ms by default. */
  windowMs?: number;
  /**
   * `token-bucket` (default): capacity `limit`, refilled continuously at `limit` per window, so the
   * sustained rate never exceeds it. `fixed-window`: `limit` requests per aligned window, the way
   * GitHub counts (and what `X-RateLimit-Reset` describes).
   */
  algorithm?: "token-bucket" | "fixed-window";
  /** Advertise the limit on every response: `x-ratelimit` (`X-RateLimit-Limit/Remaining/Reset` epoch seconds) or `ratelimit` (IETF draft `RateLimit` + `RateLimit-Policy`). */
  headers?: "x-ratelimit" | "ratelimit";
  /** Send `Retry-After` (seconds, rounded up) with each 429: true by default. */
  retryAfter?: boolean;
  /** Only these paths are limited (all when absent). */
  paths?: string[];
}

/**
 * One recorded exchange. The format is deliberately close to nock's recorder output (which
 * `@octokit/fixtures` uses): `method`, `path` (with its query), `status`, `response` (JSON or
 * text), `headers` (an object) or `rawHeaders` (name, value, name, value ...). `scope` and other
 * fields are ignored.
 */
export interface RecordedExchange {
  /** `GET` by default. */
  method?: string;
  /** The path with its query, matched exactly (query parameters in any order). */
  path: string;
  /** 200 by default. */
  status?: number;
  /** The body: JSON (sent as JSON) or a string (sent as it is). */
  response?: unknown;
  /** Alias of `response`. */
  body?: unknown;
  /** Response headers. */
  headers?: Record<string, string | string[]>;
  /** Response headers as nock records them: name, value, name, value... */
  rawHeaders?: string[];
}

/** Options of startHttpFixtureServer. */
export interface HttpFixtureServerOptions {
  /** 0 (a free port) by default. */
  port?: number;
  /** A rate limit enforced on every route. */
  rateLimit?: FixtureRateLimit;
}

/** A loopback HTTP API for tests (see startHttpFixtureServer). */
export interface HttpFixtureServer {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** The port it listens on. */
  readonly port: number;
  /** Every request received, in order. */
  readonly requests: RecordedRequest[];
  /** Adds a route; `path` may hold `:name` segments. A later route for the same method and path replaces it. */
  route(method: string, path: string, handler: FixtureHandler | FixtureResponse): HttpFixtureServer;
  /** Serves `items` (an array, or a function returning the current ones) at `path`, paginated. */
  collection(path: string, items: readonly unknown[] | (() => readonly unknown[]), options?: CollectionOptions): HttpFixtureServer;
  /** Answers the next matching requests with a failure (before routes and rate limits). */
  inject(failure: InjectedFailure): HttpFixtureServer;
  /** Replays recorded exchanges: each is answered once, in order among those with the same method and path. */
  replay(exchanges: readonly RecordedExchange[]): HttpFixtureServer;
  /** Replays a JSON file of recorded exchanges (an array, or `{ "exchanges": [...] }`). */
  replayFile(file: string): Promise<HttpFixtureServer>;
  /** Sets, changes or (with undefined) lifts the rate limit. */
  setRateLimit(limit: FixtureRateLimit | undefined): HttpFixtureServer;
  /** Requests to `path` (and `method`), from the log. */
  requestsTo(path: string, method?: string): RecordedRequest[];
  /** Empties the request log. */
  clearRequests(): void;
  /** Stops listening and closes every connection (keep-alive ones too). */
  close(): Promise<void>;
}

interface Route {
  method: string;
  pattern: RegExp;
  names: string[];
  path: string;
  handler: FixtureHandler;
}

function compilePath(path: string): { pattern: RegExp; names: string[] } {
  const names: string[] = [];
  const source = path
    .split("/")
    .map((seg) => {
      if (seg.startsWith(":")) {
        names.push(seg.slice(1));
        return "([^/]+)";
      }
      return seg.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    })
    .join("/");
  return { pattern: new RegExp(`^${source}$`), names };
}

function normalizedPathAndQuery(pathWithQuery: string): string {
  const u = new URL(pathWithQuery, "http://fixture");
  const pairs = [...u.searchParams.entries()].sort(([a, av], [b, bv]) => (a === b ? av.localeCompare(bv) : a.localeCompare(b)));
  return u.pathname + (pairs.length ? "?" + new URLSearchParams(pairs).toString() : "");
}

/** A rate limiter over requests, as the server enforces it. */
class ServerRateLimit {
  private tokens: number;
  private refilledAt = Date.now();
  private windowStart = 0;
  private used = 0;

  constructor(readonly config: FixtureRateLimit) {
    this.tokens = config.limit;
  }

  private get windowMs(): number {
    return this.config.windowMs ?? 1000;
  }

  /** Takes a request's share; returns whether it is allowed, what remains and when the limit resets. */
  take(now: number): { allowed: boolean; remaining: number; resetAtMs: number; retryAfterMs: number } {
    const { limit } = this.config;
    if (this.config.algorithm === "fixed-window") {
      const start = Math.floor(now / this.windowMs) * this.windowMs;
      if (start !== this.windowStart) {
        this.windowStart = start;
        this.used = 0;
      }
      const resetAtMs = start + this.windowMs;
      if (this.used >= limit) return { allowed: false, remaining: 0, resetAtMs, retryAfterMs: resetAtMs - now };
      this.used++;
      return { allowed: true, remaining: limit - this.used, resetAtMs, retryAfterMs: 0 };
    }
    const perMs = limit / this.windowMs;
    this.tokens = Math.min(limit, this.tokens + (now - this.refilledAt) * perMs);
    this.refilledAt = now;
    const fullAtMs = now + (limit - this.tokens) / perMs;
    if (this.tokens < 1) return { allowed: false, remaining: 0, resetAtMs: fullAtMs, retryAfterMs: (1 - this.tokens) / perMs };
    this.tokens -= 1;
    return { allowed: true, remaining: Math.floor(this.tokens), resetAtMs: now + (limit - this.tokens) / perMs, retryAfterMs: 0 };
  }

  headers(state: { remaining: number; resetAtMs: number }, now: number): Record<string, string> {
    const resetSeconds = Math.max(0, Math.ceil((state.resetAtMs - now) / 1000));
    if (this.config.headers === "x-ratelimit") {
      return { "x-ratelimit-limit": String(this.config.limit), "x-ratelimit-remaining": String(state.remaining), "x-ratelimit-reset": String(Math.ceil(state.resetAtMs / 1000)) };
    }
    if (this.config.headers === "ratelimit") {
      const windowSeconds = Math.ceil(this.windowMs / 1000);
      return { ratelimit: `"default";r=${state.remaining};t=${resetSeconds}`, "ratelimit-policy": `"default";q=${this.config.limit};w=${windowSeconds}` };
    }
    return {};
  }
}

/**
 * Starts a small HTTP API on 127.0.0.1 (a free port) for tests of connectors, in-process or
 * spawned: routes with `:params`, paginated collections in the common styles (Link headers,
 * cursors, offsets, page numbers), injected failures (429 with Retry-After, 5xx, dropped
 * connections), an enforced rate limit with or without rate-limit headers, replay of recorded
 * responses, and a log of every request for assertions. Close it in `afterAll`.
 *
 * ```ts
 * const api = await startHttpFixtureServer();
 * api.collection("/v1/items", items, { pagination: "cursor", pageSize: 50 });
 * api.inject({ path: "/v1/items", status: 429, headers: { "retry-after": "1" } });
 * // ... run the connector with base_url = api.url ...
 * expect(api.requestsTo("/v1/items")).toHaveLength(4);
 * await api.close();
 * ```
 */
export async function startHttpFixtureServer(options: HttpFixtureServerOptions = {}): Promise<HttpFixtureServer> {
  const routes: Route[] = [];
  const failures: (InjectedFailure & { left: number })[] = [];
  const recorded = new Map<string, RecordedExchange[]>();
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  let limiter = options.rateLimit ? new ServerRateLimit(options.rateLimit) : undefined;

  const send = (res: ServerResponse, entry: RecordedRequest, answer: FixtureResponse) => {
    const status = answer.status ?? 200;
    const headers: Record<string, string | string[]> = { ...answer.headers };
    let body: string | Buffer = "";
    if (answer.json !== undefined) {
      body = JSON.stringify(answer.json);
      if (!Object.keys(headers).some((h) => h.toLowerCase() === "content-type")) headers["content-type"] = "application/json";
    } else if (answer.body !== undefined) body = answer.body;
    entry.status = status;
    res.writeHead(status, headers).end(body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, text: string) => {
    const url = new URL(req.url ?? "/", "http://fixture");
    const method = (req.method ?? "GET").toUpperCase();
    const entry: RecordedRequest = { method, path: url.pathname, query: Object.fromEntries(url.searchParams), headers: req.headers, body: text, status: 0, at: Date.now() };
    requests.push(entry);
    const extra: Record<string, string> = {};

    const failure = failures.find((f) => f.left > 0 && (f.path === undefined || f.path === url.pathname) && (f.method === undefined || f.method.toUpperCase() === method));
    if (failure) {
      failure.left--;
      if (failure.drop) {
        req.socket.destroy();
        return;
      }
      send(res, entry, { status: failure.status, headers: failure.headers ?? {}, body: failure.body ?? JSON.stringify({ error: `injected HTTP ${failure.status}` }) });
      return;
    }

    if (limiter && (limiter.config.paths === undefined || limiter.config.paths.includes(url.pathname))) {
      const now = Date.now();
      const state = limiter.take(now);
      Object.assign(extra, limiter.headers(state, now));
      if (!state.allowed) {
        if (limiter.config.retryAfter !== false) extra["retry-after"] = String(Math.max(1, Math.ceil(state.retryAfterMs / 1000)));
        send(res, entry, { status: 429, headers: extra, json: { error: "rate limit exceeded" } });
        return;
      }
    }

    const key = `${method} ${normalizedPathAndQuery(url.pathname + url.search)}`;
    const queue = recorded.get(key);
    if (queue && queue.length > 0) {
      const ex = queue.shift()!;
      const headers: Record<string, string | string[]> = { ...extra };
      if (ex.rawHeaders) for (let i = 0; i + 1 < ex.rawHeaders.length; i += 2) headers[ex.rawHeaders[i]!.toLowerCase()] = ex.rawHeaders[i + 1]!;
      for (const [k, v] of Object.entries(ex.headers ?? {})) headers[k.toLowerCase()] = v;
      // A recorded content-length or encoding no longer matches the body as we send it.
      delete headers["content-length"];
      delete headers["transfer-encoding"];
      delete headers["content-encoding"];
      const payload = ex.response ?? ex.body;
      if (typeof payload === "string") send(res, entry, { status: ex.status ?? 200, headers, body: payload });
      else send(res, entry, { status: ex.status ?? 200, headers, ...(payload === undefined ? {} : { json: payload }) });
      return;
    }

    for (const route of routes) {
      if (route.method !== method && route.method !== "*") continue;
      const m = route.pattern.exec(url.pathname);
      if (!m) continue;
      const params: Record<string, string> = {};
      route.names.forEach((n, i) => (params[n] = decodeURIComponent(m[i + 1]!)));
      const fixtureReq: FixtureRequest = {
        method,
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body: text,
        json: <T>() => JSON.parse(text) as T,
        params,
      };
      const answer = await route.handler(fixtureReq, res);
      if (answer === undefined) {
        if (res.headersSent) entry.status = res.statusCode;
        return;
      }
      if (answer.delayMs) await new Promise((r) => setTimeout(r, answer.delayMs));
      send(res, entry, { ...answer, headers: { ...extra, ...answer.headers } });
      return;
    }
    send(res, entry, { status: 404, headers: extra, json: { error: `no fixture route for ${method} ${url.pathname}` } });
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      handle(req, res, Buffer.concat(chunks).toString("utf8")).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" }).end(`fixture handler failed: ${(error as Error).message}`);
        else res.destroy();
      });
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const base = `http://127.0.0.1:${port}`;

  const fixture: HttpFixtureServer = {
    url: base,
    port,
    requests,
    route(method, path, handler) {
      const { pattern, names } = compilePath(path);
      const upper = method.toUpperCase();
      const fn: FixtureHandler = typeof handler === "function" ? handler : () => handler;
      const existing = routes.findIndex((r) => r.method === upper && r.path === path);
      const route = { method: upper, pattern, names, path, handler: fn };
      if (existing === -1) routes.push(route);
      else routes[existing] = route;
      return fixture;
    },
    collection(path, items, collectionOptions = {}) {
      const style = collectionOptions.pagination ?? "link";
      const defaultSize = collectionOptions.pageSize ?? 10;
      const maxSize = collectionOptions.maxPageSize ?? 100;
      return fixture.route("GET", path, (req) => {
        const all = (typeof items === "function" ? items() : items).filter((item) => collectionOptions.filter?.(item, req) ?? true);
        const sizeParam = style === "cursor" || style === "offset" ? "limit" : "per_page";
        const size = Math.min(maxSize, Math.max(1, Number(req.query.get(sizeParam) ?? defaultSize) || defaultSize));
        const badRequest = (what: string): FixtureResponse => ({ status: 400, json: { error: `bad ${what}` } });
        if (style === "cursor") {
          const cursor = req.query.get("cursor");
          let start = 0;
          if (cursor) {
            const decoded = /^o:(\d+)$/.exec(Buffer.from(cursor, "base64url").toString("utf8"));
            if (!decoded) return badRequest("cursor");
            start = Number(decoded[1]);
          }
          const data = all.slice(start, start + size);
          const end = start + data.length;
          return { json: { data, next_cursor: end < all.length ? Buffer.from(`o:${end}`).toString("base64url") : null } };
        }
        if (style === "offset") {
          const offset = Number(req.query.get("offset") ?? 0);
          if (!Number.isInteger(offset) || offset < 0) return badRequest("offset");
          return { json: { data: all.slice(offset, offset + size), total: all.length } };
        }
        const page = Number(req.query.get("page") ?? 1);
        if (!Number.isInteger(page) || page < 1) return badRequest("page");
        const data = all.slice((page - 1) * size, page * size);
        const lastPage = Math.max(1, Math.ceil(all.length / size));
        if (style === "page") return { json: { data, page, total_pages: lastPage } };
        const link = (p: number, rel: string) => {
          const q = new URLSearchParams(req.query);
          q.set("page", String(p));
          q.set("per_page", String(size));
          return `<${base}${req.path}?${q.toString()}>; rel="${rel}"`;
        };
        const links = [link(1, "first"), link(lastPage, "last")];
        if (page < lastPage) links.unshift(link(page + 1, "next"));
        if (page > 1) links.unshift(link(page - 1, "prev"));
        return { json: data, headers: { link: links.join(", ") } };
      });
    },
    inject(failure) {
      failures.push({ ...failure, left: failure.times ?? 1 });
      return fixture;
    },
    replay(exchanges) {
      for (const ex of exchanges) {
        const key = `${(ex.method ?? "GET").toUpperCase()} ${normalizedPathAndQuery(ex.path)}`;
        const queue = recorded.get(key) ?? [];
        queue.push(ex);
        recorded.set(key, queue);
      }
      return fixture;
    },
    async replayFile(file) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(await readFile(file, "utf8"));
      } catch (error) {
        throw new FlowcapError("CONFIG_INVALID", `${file}: not a readable JSON recording: ${(error as Error).message}`, { cause: error, userFacing: true });
      }
      const list = Array.isArray(parsed) ? parsed : (parsed as { exchanges?: unknown }).exchanges;
      if (!Array.isArray(list) || list.some((e) => typeof (e as { path?: unknown })?.path !== "string")) {
        throw new FlowcapError("CONFIG_INVALID", `${file}: a recording is an array of exchanges (or { "exchanges": [...] }), each with a "path"`, { userFacing: true });
      }
      return fixture.replay(list as RecordedExchange[]);
    },
    setRateLimit(limit) {
      limiter = limit ? new ServerRateLimit(limit) : undefined;
      return fixture;
    },
    requestsTo(path, method) {
      return requests.filter((r) => r.path === path && (method === undefined || r.method === method.toUpperCase()));
    },
    clearRequests() {
      requests.length = 0;
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
    },
  };
  return fixture;
}
