import { getPointer } from "../../util/jsonPointer.js";
import { FlowcapError } from "../../util/errors.js";
import type { HttpClient, HttpResponse, QueryParams, RequestOptions } from "./client.js";
import { findLink, parseLinkHeader } from "./linkHeader.js";

/**
 * Where a pagination resumes: the next page's URL (Link headers, a next URL in the body), the
 * next cursor, offset or page number. Plain JSON, so it can go into a checkpoint as it is; a URL
 * never carries the client's credentials. It is also a `PageCursor`, so a backfill's `fetchPage`
 * can yield it as its next page.
 */
export type PaginationCursor = string | number;

/** The request a page is fetched with: the URL and the options to pass to the client. */
export interface PageRequest {
  /** The URL: relative to the client's base URL, or absolute (a next-page link). */
  url: string;
  /** The request options: the caller's, with the strategy's parameters. */
  options: RequestOptions;
}

/** How the next page is requested and where its cursor comes from. Built by the strategy functions. */
export interface PaginationStrategy {
  /** For messages: `link header`, `cursor at /meta/next`. */
  readonly name: string;
  /** The request of the page at `cursor` (undefined: the first page). */
  request(first: PageRequest, cursor: PaginationCursor | undefined, client: HttpClient): PageRequest;
  /** The next page's cursor from this page, or undefined when the API says there is none. */
  next(page: { response: HttpResponse; body: unknown; items: readonly unknown[]; cursor: PaginationCursor | undefined; request: PageRequest }, client: HttpClient): PaginationCursor | undefined;
  /** The page size this strategy asks for, when it knows it (for the short-page stop). */
  readonly pageSize?: number;
}

/** One page of a pagination. */
export interface Page<T> {
  /** The records of this page (at `records` in the body). */
  items: T[];
  /** The response: status, headers (rate limits, totals) and URL. */
  response: HttpResponse;
  /** The parsed body. */
  body: unknown;
  /** 1 for the first page of this run. */
  number: number;
  /** The cursor this page was fetched with (undefined for the first page of a fresh pagination). */
  cursor: PaginationCursor | undefined;
  /**
   * Where to resume after this page: checkpoint it with the page's items, and pass it as `from`
   * to continue after them. Undefined when this is the last page.
   */
  next: PaginationCursor | undefined;
  /** Why pagination stops after this page (undefined when it goes on). */
  stop: StopReason | undefined;
}

/** Why a pagination ended: no next page (the strategy found none, or a total was reached), an empty or short page, `hasMore` false, `maxPages`, `stopWhen`. */
export type StopReason = "no-next" | "empty-page" | "short-page" | "has-more-false" | "max-pages" | "predicate";

/** Options of paginate. */
export interface PaginateOptions<T> extends RequestOptions {
  /** How pages link up: `linkHeader()`, `nextUrl(pointer)`, `nextCursor(...)`, `offsetLimit(...)`, `pageNumber(...)`. */
  strategy: PaginationStrategy;
  /**
   * RFC 6901 pointer to the records in a page's body: `""` (the body is the array, the default),
   * `/data`, `/items`. A page whose body has nothing there fails (a typo would otherwise read as
   * an empty result); `null` there is an empty page.
   */
  records?: string;
  /** Resume from a cursor a previous run's page gave as `next` (undefined: from the first page). */
  from?: PaginationCursor;
  /** Stop after an empty page: true by default. */
  stopOnEmptyPage?: boolean;
  /**
   * Stop after a page with fewer records than the strategy asked for (offset/limit and page
   * numbers with a size): true by default for those; the others ignore it.
   */
  stopOnShortPage?: boolean;
  /** Pointer to a boolean in the body that says whether more pages follow (`/has_more`); false stops. */
  hasMore?: string;
  /** Stop after this many pages in this run. */
  maxPages?: number;
  /** Stop after the page for which it returns true (the page is still yielded). */
  stopWhen?(page: Page<T>): boolean;
}

/** Follows the `Link` header's `rel="next"` (RFC 8288; GitHub, GitLab, Shopify). */
export function linkHeader(options: { rel?: string } = {}): PaginationStrategy {
  const rel = options.rel ?? "next";
  return {
    name: `Link rel="${rel}"`,
    request: (first, cursor) => (cursor === undefined ? first : { url: String(cursor), options: { ...first.options, query: undefined } }),
    next: ({ response, request }, client) => {
      const link = findLink(parseLinkHeader(response.headers.link, absoluteRequestUrl(request, client)), rel);
      return link ? client.stripCredentials(link.url) : undefined;
    },
  };
}

/** Follows a next-page URL in the body (`/links/next`, `/next`, `/@odata.nextLink`), relative URLs resolved against the request's. */
export function nextUrl(pointer: string): PaginationStrategy {
  return {
    name: `next URL at ${pointer}`,
    request: (first, cursor) => (cursor === undefined ? first : { url: String(cursor), options: { ...first.options, query: undefined } }),
    next: ({ body, request }, client) => {
      const value = getPointer(body, pointer);
      if (value === undefined || value === null || value === "") return undefined;
      if (typeof value !== "string") throw new FlowcapError("HTTP_BODY_INVALID", `the next-page URL at ${pointer} is not a string: ${JSON.stringify(value)?.slice(0, 100)}`);
      return client.stripCredentials(new URL(value, absoluteRequestUrl(request, client)));
    },
  };
}

/** Options of nextCursor. */
export interface NextCursorOptions {
  /** Pointer to the next cursor in the body (`/meta/next_cursor`); a missing, null or empty one ends pagination. */
  pointer?: string;
  /**
   * Pointer into the page's last record whose value is the next cursor (`/id` for Stripe's
   * `starting_after`): used instead of `pointer`. Combine with `hasMore` (`/has_more`).
   */
  fromLastItem?: string;
  /** Pointer to the next cursor in a response header instead: its name (`x-next-cursor`). */
  header?: string;
  /** The query parameter (or JSON body key, with `in: "body"`) the cursor is sent in. */
  param: string;
  /** `query` (default) or `body`: a top-level key of the JSON body (Notion's `start_cursor`, HubSpot search's `after`). */
  in?: "query" | "body";
}

/** Sends the cursor the previous page gave (in its body, its last record or a header) as a parameter. */
export function nextCursor(options: NextCursorOptions): PaginationStrategy {
  const from = options.fromLastItem !== undefined ? `the last record's ${options.fromLastItem}` : options.header !== undefined ? `header ${options.header}` : (options.pointer ?? "");
  if (options.pointer === undefined && options.fromLastItem === undefined && options.header === undefined) {
    throw new FlowcapError("INTERNAL", "nextCursor needs `pointer`, `fromLastItem` or `header`: where the next cursor is");
  }
  return {
    name: `cursor from ${from}`,
    request: (first, cursor) => withParam(first, options.param, cursor, options.in ?? "query"),
    next: ({ body, items, response }) => {
      let value: unknown;
      if (options.fromLastItem !== undefined) value = items.length ? getPointer(items[items.length - 1], options.fromLastItem) : undefined;
      else if (options.header !== undefined) {
        const h = response.headers[options.header.toLowerCase()];
        value = Array.isArray(h) ? h[0] : h;
      } else value = getPointer(body, options.pointer!);
      if (value === undefined || value === null || value === "") return undefined;
      if (typeof value !== "string" && typeof value !== "number") throw new FlowcapError("HTTP_BODY_INVALID", `the next cursor (${from}) is neither a string nor a number: ${JSON.stringify(value)?.slice(0, 100)}`);
      return value;
    },
  };
}

/** Options of offsetLimit. */
export interface OffsetLimitOptions {
  /** Records per page, sent as `limitParam`. */
  limit: number;
  /** `offset` by default. */
  offsetParam?: string;
  /** `limit` by default. */
  limitParam?: string;
  /** The first offset: 0 by default. */
  start?: number;
  /** Pointer to the total number of records (`/total`): stops when the offset reaches it. */
  total?: string;
  /** `query` (default) or `body`. */
  in?: "query" | "body";
}

/** Offset and limit parameters; the next offset is this one plus the records received (nothing skipped on a short page). */
export function offsetLimit(options: OffsetLimitOptions): PaginationStrategy {
  const offsetParam = options.offsetParam ?? "offset";
  const limitParam = options.limitParam ?? "limit";
  const where = options.in ?? "query";
  return {
    name: `${offsetParam}/${limitParam}`,
    pageSize: options.limit,
    request: (first, cursor) => withParam(withParam(first, limitParam, options.limit, where), offsetParam, cursor ?? options.start ?? 0, where),
    next: ({ cursor, items, body }) => {
      const next = Number(cursor ?? options.start ?? 0) + items.length;
      if (options.total !== undefined) {
        const total = getPointer(body, options.total);
        if (typeof total === "number" && next >= total) return undefined;
      }
      return items.length === 0 ? undefined : next;
    },
  };
}

/** Options of pageNumber. */
export interface PageNumberOptions {
  /** `page` by default. */
  pageParam?: string;
  /** The first page's number: 1 by default. */
  start?: number;
  /** Records per page, sent as `sizeParam` when given. */
  size?: number;
  /** `per_page` by default. */
  sizeParam?: string;
  /** Pointer to the number of pages (`/total_pages`): stops after the last. */
  totalPages?: string;
  /** `query` (default) or `body`. */
  in?: "query" | "body";
}

/** Page numbers: 1, 2, 3, ... (or from `start`). */
export function pageNumber(options: PageNumberOptions = {}): PaginationStrategy {
  const pageParam = options.pageParam ?? "page";
  const sizeParam = options.sizeParam ?? "per_page";
  const where = options.in ?? "query";
  return {
    name: `${pageParam} numbers`,
    ...(options.size !== undefined ? { pageSize: options.size } : {}),
    request: (first, cursor) => {
      const sized = options.size !== undefined ? withParam(first, sizeParam, options.size, where) : first;
      return withParam(sized, pageParam, cursor ?? options.start ?? 1, where);
    },
    next: ({ cursor, items, body }) => {
      const current = Number(cursor ?? options.start ?? 1);
      if (options.totalPages !== undefined) {
        const total = getPointer(body, options.totalPages);
        if (typeof total === "number" && current >= total) return undefined;
      }
      return items.length === 0 ? undefined : current + 1;
    },
  };
}

function absoluteRequestUrl(request: PageRequest, client: HttpClient): string {
  // The URL as sent (base URL resolved, query added), without credentials: the base for relative links.
  const u = new URL(client.stripCredentials(request.url));
  const query = request.options.query as QueryParams | undefined;
  if (query) {
    for (const [k, v] of Object.entries(query)) {
      if (v === undefined) continue;
      u.searchParams.delete(k);
      for (const item of Array.isArray(v) ? v : [v]) u.searchParams.append(k, String(item));
    }
  }
  return u.href;
}

function withParam(request: PageRequest, name: string, value: PaginationCursor | undefined, where: "query" | "body"): PageRequest {
  if (value === undefined) return request;
  if (where === "body") {
    const json = request.options.json;
    const base = typeof json === "object" && json !== null && !Array.isArray(json) ? (json as Record<string, unknown>) : {};
    return { url: request.url, options: { ...request.options, json: { ...base, [name]: value } } };
  }
  return { url: request.url, options: { ...request.options, query: { ...(request.options.query ?? {}), [name]: value } } };
}

/**
 * Fetches the pages of a collection one at a time and yields each with its records, its
 * response and the cursor to resume after it. A connector checkpoints `page.next` with the
 * page's records and, after a restart, passes it back as `from`:
 *
 * ```ts
 * for await (const page of paginate(http, "/v1/items", { strategy: linkHeader(), from: state.next })) {
 *   yield* page.items;
 *   yield ctx.checkpoint({ next: page.next ?? null });
 * }
 * ```
 *
 * Stops when the strategy finds no next page, after an empty page, after a short page (offset
 * and page strategies), when `hasMore` is false, after `maxPages` or when `stopWhen` says so.
 * Pages are read whole (JSON.parse); for one huge response, use `client.streamItems`.
 */
export async function* paginate<T = unknown>(client: HttpClient, url: string | URL, options: PaginateOptions<T>): AsyncGenerator<Page<T>, void, undefined> {
  const { strategy, records = "", from, stopOnEmptyPage = true, stopOnShortPage = true, hasMore, maxPages, stopWhen, ...requestOptions } = options;
  const first: PageRequest = { url: String(url), options: { ...requestOptions, headers: { accept: "application/json", ...requestOptions.headers } } };
  let cursor: PaginationCursor | undefined = from;
  for (let number = 1; ; number++) {
    const request = strategy.request(first, cursor, client);
    const response = await client.request(request.url, request.options);
    const body = response.json();
    const found = getPointer(body, records);
    let items: T[];
    if (Array.isArray(found)) items = found as T[];
    else if (found === null) items = [];
    else {
      const keys = body !== null && typeof body === "object" && !Array.isArray(body) ? Object.keys(body).slice(0, 10).join(", ") : typeof body;
      throw new FlowcapError("HTTP_BODY_INVALID", `${response.url}: expected the page's records (an array) at ${records === "" ? "the top level" : records}, found ${found === undefined ? "nothing" : typeof found} (the body has: ${keys})`);
    }
    let next = strategy.next({ response, body, items, cursor, request }, client);
    let stop: StopReason | undefined = stopOnEmptyPage && items.length === 0 ? "empty-page" : next === undefined ? "no-next" : undefined;
    if (!stop && stopOnShortPage && strategy.pageSize !== undefined && items.length < strategy.pageSize) stop = "short-page";
    if (!stop && hasMore !== undefined && getPointer(body, hasMore) === false) stop = "has-more-false";
    const page: Page<T> = { items, response, body, number, cursor, next, stop };
    if (!stop && maxPages !== undefined && number >= maxPages) stop = "max-pages";
    if (!stop && stopWhen?.(page)) stop = "predicate";
    // A natural end has no resume point; a stop the caller chose (max pages, predicate) keeps it.
    if (stop && stop !== "max-pages" && stop !== "predicate") next = undefined;
    page.next = next;
    page.stop = stop;
    yield page;
    if (stop) return;
    if (next === cursor && next !== undefined) {
      throw new FlowcapError("HTTP_BODY_INVALID", `${response.url}: the next page's cursor (${strategy.name}) is the same as this page's (${String(next).slice(0, 100)}): the API would be asked for the same page forever`);
    }
    cursor = next;
  }
}
