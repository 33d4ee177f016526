import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startHttpFixtureServer, type HttpFixtureServer } from "../../testing/httpFixtureServer.js";
import { apiKeyAuth } from "./auth.js";
import { createHttpClient, type HttpClient } from "./client.js";
import { linkHeader, nextCursor, nextUrl, offsetLimit, pageNumber, paginate, type Page, type PaginationCursor, type PaginateOptions } from "./paginate.js";

const items = Array.from({ length: 95 }, (_, i) => ({ id: i + 1, name: `item ${i + 1}` }));
let api: HttpFixtureServer;
let http: HttpClient;

beforeAll(async () => {
  api = await startHttpFixtureServer();
  api.collection("/link", items, { pagination: "link", pageSize: 10 });
  api.collection("/cursor", items, { pagination: "cursor", pageSize: 10 });
  api.collection("/offset", items, { pagination: "offset", pageSize: 10 });
  api.collection("/page", items, { pagination: "page", pageSize: 10 });
  http = createHttpClient({ baseUrl: api.url, rateLimiter: false });
});
afterAll(() => api.close());
beforeEach(() => api.clearRequests());

async function all<T>(url: string, options: PaginateOptions<T>): Promise<Page<T>[]> {
  const pages: Page<T>[] = [];
  for await (const page of paginate<T>(http, url, options)) pages.push(page);
  return pages;
}
const ids = (pages: Page<{ id: number }>[]) => pages.flatMap((p) => p.items.map((i) => i.id));

/** Reads `stopAfter` pages, then resumes from the last page's `next` as a restarted connector would. */
async function resumed(url: string, options: PaginateOptions<{ id: number }>, stopAfter: number): Promise<number[]> {
  const seen: number[] = [];
  let saved: PaginationCursor | undefined;
  for await (const page of paginate<{ id: number }>(http, url, options)) {
    seen.push(...page.items.map((i) => i.id));
    saved = page.next;
    if (page.number === stopAfter) break;
  }
  for await (const page of paginate<{ id: number }>(http, url, { ...options, from: saved })) seen.push(...page.items.map((i) => i.id));
  return seen;
}

describe("paginate", () => {
  const expected = items.map((i) => i.id);

  it("follows Link headers to the end, with the response reachable on every page", async () => {
    const pages = await all<{ id: number }>("/link", { strategy: linkHeader(), query: { per_page: 10 } });
    expect(ids(pages)).toEqual(expected);
    expect(pages).toHaveLength(10);
    expect(pages.map((p) => p.response.status)).toEqual(Array(10).fill(200));
    expect(pages[0]!.response.headers.link).toMatch(/rel="next"/);
    expect(pages[0]!.next).toBe(`${api.url}/link?per_page=10&page=2`);
    expect(pages.at(-1)).toMatchObject({ next: undefined, stop: "no-next", number: 10 });
    expect(await resumed("/link", { strategy: linkHeader(), query: { per_page: 10 } }, 4)).toEqual(expected);
  });

  it("follows a cursor at a JSON pointer, with records at a pointer", async () => {
    const options = { strategy: nextCursor({ pointer: "/next_cursor", param: "cursor" }), records: "/data", query: { limit: 10 } };
    const pages = await all<{ id: number }>("/cursor", options);
    expect(ids(pages)).toEqual(expected);
    expect(pages.at(-1)!.stop).toBe("no-next");
    expect(api.requestsTo("/cursor")[1]!.query).toEqual({ limit: "10", cursor: pages[0]!.next });
    expect(await resumed("/cursor", options, 3)).toEqual(expected);
  });

  it("pages by offset and limit, stopping at the short last page", async () => {
    const options = { strategy: offsetLimit({ limit: 10 }), records: "/data" };
    const pages = await all<{ id: number }>("/offset", options);
    expect(ids(pages)).toEqual(expected);
    expect(pages.at(-1)).toMatchObject({ stop: "short-page", next: undefined });
    expect(pages.map((p) => p.cursor)).toEqual([undefined, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
    expect(await resumed("/offset", options, 5)).toEqual(expected);
  });

  it("stops offset paging at the total when the last page is full", async () => {
    const pages = await all<{ id: number }>("/offset", { strategy: offsetLimit({ limit: 19, total: "/total" }), records: "/data", stopOnShortPage: false });
    expect(ids(pages)).toEqual(expected);
    expect(pages).toHaveLength(5);
    expect(api.requestsTo("/offset")).toHaveLength(5);
  });

  it("pages by page number up to total_pages", async () => {
    const pages = await all<{ id: number }>("/page", { strategy: pageNumber({ size: 10, totalPages: "/total_pages" }), records: "/data" });
    expect(ids(pages)).toEqual(expected);
    expect(pages.at(-1)!.stop).toBe("no-next");
    expect(await resumed("/page", { strategy: pageNumber({ size: 10 }), records: "/data" }, 2)).toEqual(expected);
  });

  it("stops on an empty page when the API gives no other sign", async () => {
    const pages = await all<{ id: number }>("/page", { strategy: pageNumber(), records: "/data", query: { per_page: 50 } });
    // 95 items at 50 per page: two pages, then an empty third.
    expect(pages.map((p) => p.items.length)).toEqual([50, 45, 0]);
    expect(pages.at(-1)!.stop).toBe("empty-page");
  });

  it("stops after maxPages or when the predicate says so, keeping where to resume", async () => {
    const limited = await all<{ id: number }>("/link", { strategy: linkHeader(), maxPages: 3 });
    expect(limited).toHaveLength(3);
    expect(limited.at(-1)).toMatchObject({ stop: "max-pages", next: `${api.url}/link?page=4&per_page=10` });

    const untilId = await all<{ id: number }>("/cursor", {
      strategy: nextCursor({ pointer: "/next_cursor", param: "cursor" }),
      records: "/data",
      stopWhen: (page) => page.items.some((i) => i.id >= 25),
    });
    expect(untilId).toHaveLength(3);
    expect(untilId.at(-1)!.stop).toBe("predicate");
    expect(untilId.at(-1)!.next).toBeDefined();
  });

  it("stops when has_more is false, with the cursor taken from the last record (Stripe style)", async () => {
    api.route("GET", "/stripe", (req) => {
      const after = Number(req.query.get("starting_after") ?? 0);
      const data = items.filter((i) => i.id > after).slice(0, 40);
      return { json: { object: "list", data, has_more: data.length > 0 && data.at(-1)!.id < items.length } };
    });
    const pages = await all<{ id: number }>("/stripe", { strategy: nextCursor({ fromLastItem: "/id", param: "starting_after" }), records: "/data", hasMore: "/has_more" });
    expect(ids(pages)).toEqual(expected);
    expect(pages.map((p) => p.stop)).toEqual([undefined, undefined, "has-more-false"]);
  });

  it("follows a next URL in the body, relative ones included, and a cursor sent in a POST body", async () => {
    api.route("GET", "/odata", (req) => {
      const skip = Number(req.query.get("$skip") ?? 0);
      const value = items.slice(skip, skip + 30);
      return { json: { value, ...(skip + 30 < items.length ? { "@odata.nextLink": `odata?$skip=${skip + 30}` } : {}) } };
    });
    expect(ids(await all<{ id: number }>("/odata", { strategy: nextUrl("/@odata.nextLink"), records: "/value" }))).toEqual(expected);

    api.route("POST", "/search", (req) => {
      const body = req.json<{ filter: string; start_cursor?: number }>();
      const start = body.start_cursor ?? 0;
      return { json: { filter: body.filter, results: items.slice(start, start + 25), next_cursor: start + 25 < items.length ? start + 25 : null } };
    });
    const pages = await all<{ id: number }>("/search", {
      method: "POST",
      idempotent: true,
      json: { filter: "all" },
      strategy: nextCursor({ pointer: "/next_cursor", param: "start_cursor", in: "body" }),
      records: "/results",
    });
    expect(ids(pages)).toEqual(expected);
    expect(api.requestsTo("/search").map((r) => JSON.parse(r.body))).toEqual([{ filter: "all" }, { filter: "all", start_cursor: 25 }, { filter: "all", start_cursor: 50 }, { filter: "all", start_cursor: 75 }]);
  });

  it("fails clearly when the records are not where the pointer says, and on a cursor that does not move", async () => {
    await expect(all("/cursor", { strategy: nextCursor({ pointer: "/next_cursor", param: "cursor" }), records: "/items" })).rejects.toThrow(
      /\/cursor: expected the page's records \(an array\) at \/items, found nothing \(the body has: data, next_cursor\)/,
    );
    api.route("GET", "/stuck", { json: { data: [{ id: 1 }], next: "same" } });
    await expect(all("/stuck", { strategy: nextCursor({ pointer: "/next", param: "c" }), records: "/data", from: "same" })).rejects.toThrow(/is the same as this page's/);
  });

  it("never puts an API key sent in the query into a resume cursor, even when the API echoes it in its links", async () => {
    const keyed = createHttpClient({ baseUrl: api.url, rateLimiter: false, auth: apiKeyAuth("k-9f8e7d6c", { query: "key" }) });
    const pages: Page<{ id: number }>[] = [];
    for await (const page of paginate<{ id: number }>(keyed, "/link", { strategy: linkHeader(), maxPages: 3 })) pages.push(page);
    // The fixture's links repeat the request's query, key included; the cursors must not.
    expect(pages[0]!.response.headers.link).toMatch(/key=k-9f8e7d6c/);
    for (const page of pages) expect(String(page.next)).not.toMatch(/k-9f8e7d6c|key=/);
    expect(api.requestsTo("/link").every((r) => r.query.key === "k-9f8e7d6c")).toBe(true);
  });
});
