import { PassThrough } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { createLogger, parseWithSchema } from "flowcap";
import { createConnectorHarness, type HarnessBinding, type HarnessCaptureProgress } from "flowcap/testing";
import { GitHub, SECONDARY_LIMIT_PAUSE_MS } from "../src/api.js";
import { connector } from "../src/index.js";
import { configSchema, type Config } from "../src/models.js";
import { commit, item, startFakeGitHub, type FakeGitHub, type FakeRepository } from "./fakeGitHub.js";

/**
 * The connector against a loopback GitHub (the testing kit's fixture server) for what recordings
 * cannot show: polls after the backfill, `since`, updates and deletions, conditional requests,
 * rate limits and failures, several repositories at once.
 */
let fake: FakeGitHub | undefined;
afterEach(() => fake?.close());

const TOKEN = "ghp_test0123456789";

async function start(repos: Record<string, FakeRepository>, options: Parameters<typeof startFakeGitHub>[1] = {}) {
  fake = await startFakeGitHub(repos, options);
  return fake;
}

function harness(server: FakeGitHub, extra: Record<string, unknown> = {}) {
  const config = { credentials: { option_title: "PAT Credentials", personal_access_token: TOKEN }, repositories: Object.keys(server.repos), api_url: server.url, ...extra };
  return createConnectorHarness(connector, { config });
}

/** A binding polled every second (snapshots: taken every second). */
const fast = (name: string): HarnessBinding => ({ resource: { name, interval: "PT1S" } });

type BindingState = { backfill?: Record<string, unknown>; inc?: Record<string, { cursor: { $date: string } }> };
const bindingState = (p: { state: Record<string, unknown> }, binding: string) => (p.state.bindingStateV1 as Record<string, BindingState> | undefined)?.[binding];
/** Every subtask of the binding has finished its backfill. */
const backfilled = (p: HarnessCaptureProgress, binding: string) => {
  const state = bindingState(p, binding);
  return state?.inc !== undefined && Object.keys(state.backfill ?? {}).length === 0;
};
const ids = (docs: readonly [string, Record<string, unknown>][]) => docs.map(([, d]) => d.id);
const now = () => new Date().toISOString().replace(/\.\d{3}Z$/, "Z");

describe("source-github polls", () => {
  it("backfills open then closed issues, then polls since its cursor, asking GitHub again only conditionally", async () => {
    const repo: FakeRepository = {
      id: 1,
      issues: [item(1, "2024-01-01T00:00:00Z"), item(2, "2024-01-02T00:00:00Z", { state: "closed" }), item(3, "2024-01-03T00:00:00Z")],
    };
    const server = await start({ "acme/app": repo });
    let changed = false;
    const stop = new AbortController();
    const result = await harness(server).capture({
      bindings: [fast("issues")],
      signal: stop.signal,
      timeoutMs: 60_000,
      until: (p) => {
        if (!changed && backfilled(p, "issues")) {
          changed = true;
          repo.issues![0] = item(1, now(), { state: "closed", created_at: "2024-01-01T00:00:00Z" });
          repo.issues!.push(item(4, now()));
        }
        // Stop at the first poll GitHub answers 304 once both changes are in.
        if (ids(p.documents).includes(4)) void server.notModified("/repos/acme/app/issues").then(() => stop.abort());
        return false;
      },
    });
    // A transaction per page, its documents combined by key as Flow does: open issues (3, 1),
    // closed ones (2), then the poll's changes (1, 4).
    expect(ids(result.documents)).toEqual([1, 3, 2, 1, 4]);
    expect(result.documents[3]![1]).toMatchObject({ repository: "acme/app", state: "closed" });
    // Polls run beside the backfill: they are the requests sorted by update.
    const listed = server.listed("/repos/acme/app/issues");
    expect(listed.filter((r) => !r.query.sort).map((r) => r.query)).toEqual([{ per_page: "100" }, { state: "closed", per_page: "100" }]);
    const polls = listed.filter((r) => r.query.sort);
    expect(polls[0]!.query).toEqual({ state: "all", sort: "updated", direction: "asc", since: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/), per_page: "100" });
    expect(polls.at(-1)).toMatchObject({ status: 304, conditional: true });
    const cursor = bindingState(result, "issues")!.inc!["acme/app"]!.cursor.$date;
    expect(Date.parse(cursor)).toBe(Date.parse(String(repo.issues!.at(-1)!.updated_at)));
  });

  it("reads pull requests newest update first, down to the cursor only", async () => {
    const pulls = [1, 2, 3, 4, 5].map((n) => item(n, `2024-01-0${n}T00:00:00Z`, { state: n % 2 ? "open" : "closed" }));
    const repo: FakeRepository = { id: 1, pulls };
    const server = await start({ "acme/app": repo });
    let changed = false;
    const result = await harness(server, { page_size_for_large_streams: 2 }).capture({
      bindings: [fast("pull_requests")],
      timeoutMs: 60_000,
      until: (p) => {
        if (!changed && backfilled(p, "pull_requests")) {
          changed = true;
          repo.pulls![1] = item(2, now(), { state: "closed", created_at: "2024-01-02T00:00:00Z", merged_at: now() });
        }
        return p.documents.length > 5;
      },
    });
    // Pages of two, newest first (each transaction in key order), then the poll's change.
    expect(ids(result.documents)).toEqual([4, 5, 2, 3, 1, 2]);
    const listed = server.listed("/repos/acme/app/pulls");
    // The backfill's three pages; polls (beside it, and after the change) read the first page
    // only, stopping at the first pull request older than the cursor.
    expect(listed.filter((r) => r.query.page).map((r) => r.query.page)).toEqual(["2", "3"]);
    expect(listed.filter((r) => !r.query.page).length).toBeGreaterThanOrEqual(2);
    expect(listed.at(-1)!.query).toEqual({ state: "all", sort: "updated", direction: "desc", per_page: "2" });
  });

  it("snapshots labels: a changed label updated, a deleted one deleted, an unchanged snapshot a free 304", async () => {
    const label = (id: number, name: string, color = "ffffff") => ({ id, node_id: `L${id}`, name, color, description: null, default: false });
    const repo: FakeRepository = { id: 1, labels: [label(1, "bug"), label(2, "docs"), label(3, "wontfix")] };
    const server = await start({ "acme/app": repo });
    let changed = false;
    const stop = new AbortController();
    const result = await harness(server).capture({
      bindings: [fast("labels")],
      signal: stop.signal,
      timeoutMs: 60_000,
      until: (p) => {
        if (!changed && p.documents.length === 3) {
          changed = true;
          repo.labels = [label(1, "bug"), label(2, "docs", "000000")];
        }
        if (p.documents.length === 5) void server.notModified("/repos/acme/app/labels").then(() => stop.abort());
        return false;
      },
    });
    expect(result.documents.map(([, d]) => [d.id, (d._meta as { op: string }).op])).toEqual([
      [1, "c"],
      [2, "c"],
      [3, "c"],
      [2, "u"],
      [3, "d"],
    ]);
    expect(result.documents[4]![1]).toEqual({ id: 3, _meta: expect.objectContaining({ op: "d" }) });
    // GitHub's default page size: no per_page.
    expect(server.listed("/repos/acme/app/labels")[0]!.query).toEqual({});
  });

  it("backfills issue comments newest update first, then polls them since the cursor; snapshots releases with their deletions", async () => {
    const comment = (id: number, updated: string) => ({ id, node_id: `IC${id}`, body: `comment ${id}`, created_at: updated, updated_at: updated });
    const release = (id: number, tag: string) => ({ id, node_id: `R${id}`, tag_name: tag, name: tag, draft: false, prerelease: false, created_at: "2024-01-01T00:00:00Z" });
    const repo: FakeRepository = {
      id: 1,
      comments: [comment(1, "2024-01-01T00:00:00Z"), comment(2, "2024-01-02T00:00:00Z"), comment(3, "2024-01-03T00:00:00Z")],
      releases: [release(10, "v1.0.0"), release(11, "v1.1.0")],
    };
    const server = await start({ "acme/app": repo });
    let changed = false;
    const result = await harness(server, { page_size_for_large_streams: 2 }).capture({
      bindings: [fast("issue_comments"), fast("releases")],
      timeoutMs: 60_000,
      until: (p) => {
        const of = (c: string) => p.documents.filter(([col]) => col === c).map(([, d]) => d);
        if (!changed && backfilled(p, "issue_comments") && of("acmeCo/releases").length === 2) {
          changed = true;
          repo.comments![0] = comment(1, now());
          repo.comments!.push(comment(4, now()));
          repo.releases = [release(11, "v1.1.0")];
        }
        return of("acmeCo/issue_comments").some((d) => d.id === 4) && of("acmeCo/releases").some((d) => (d._meta as { op: string }).op === "d");
      },
    });
    const comments = result.documents.filter(([c]) => c === "acmeCo/issue_comments").map(([, d]) => d);
    // Pages of two, newest update first (each transaction in key order), then the poll's changes.
    expect(comments.map((d) => d.id)).toEqual([2, 3, 1, 1, 4]);
    expect(comments[0]).toMatchObject({ repository: "acme/app", body: "comment 2" });
    const listed = server.listed("/repos/acme/app/issues/comments");
    expect(listed.filter((r) => r.query.direction === "desc").map((r) => r.query)).toEqual([
      { sort: "updated", direction: "desc", per_page: "2" },
      { sort: "updated", direction: "desc", per_page: "2", page: "2" },
    ]);
    expect(listed.filter((r) => r.query.direction === "asc").at(-1)!.query).toEqual({ sort: "updated", direction: "asc", since: expect.stringMatching(/Z$/), per_page: "2" });
    const releases = result.documents.filter(([c]) => c === "acmeCo/releases").map(([, d]) => [d.id, (d._meta as { op: string }).op]);
    expect(releases).toEqual([
      [10, "c"],
      [11, "c"],
      [10, "d"],
    ]);
    expect(server.listed("/repos/acme/app/releases")[0]!.query).toEqual({ per_page: "2" });
  });

  it("reads commits per branch: the configured ones, else the default branch, by committer date", async () => {
    const app: FakeRepository = { id: 1, default_branch: "main", commits: { main: [commit("m1", "2024-01-01T00:00:00Z")], dev: [commit("d2", "2024-01-02T00:00:00Z"), commit("d1", "2024-01-01T00:00:00Z")] } };
    const lib: FakeRepository = { id: 2, default_branch: "trunk", commits: { trunk: [commit("t1", "2024-01-01T00:00:00Z")] } };
    const server = await start({ "acme/app": app, "acme/lib": lib });
    let changed = false;
    const result = await harness(server, { branches: ["acme/app/dev"] }).capture({
      bindings: [fast("commits")],
      timeoutMs: 60_000,
      until: (p) => {
        if (!changed && backfilled(p, "commits")) {
          changed = true;
          app.commits!.dev!.unshift(commit("d3", now()));
        }
        return p.documents.some(([, d]) => d.sha === "d3");
      },
    });
    const docs = result.documents.map(([, d]) => `${d.repository}@${d.branch}:${d.sha}`);
    expect(docs.slice(0, 3).sort()).toEqual(["acme/app@dev:d1", "acme/app@dev:d2", "acme/lib@trunk:t1"]);
    expect(docs.slice(3)).toEqual(["acme/app@dev:d3"]);
    const app_ = server.listed("/repos/acme/app/commits");
    expect(app_.filter((r) => r.query.until).map((r) => r.query)).toEqual([{ sha: "dev", until: expect.stringMatching(/Z$/), per_page: "100" }]);
    expect(app_.at(-1)!.query).toEqual({ sha: "dev", since: expect.stringMatching(/Z$/), per_page: "100" });
    expect(server.listed("/repos/acme/lib/commits")[0]!.query.sha).toBeUndefined();
    expect(bindingState(result, "commits")!.inc).toHaveProperty(["acme/app:dev"]);
  });

  it("captures nothing, without failing, from an empty repository (409) and one with issues disabled (410)", async () => {
    const server = await start({ "acme/empty": { id: 1, fail: { issues: 410, commits: 409 } } });
    const result = await harness(server).capture({
      bindings: ["issues", "commits"],
      timeoutMs: 60_000,
      until: (p) => backfilled(p, "issues") && backfilled(p, "commits"),
    });
    expect(result.documents).toEqual([]);
  });

  it("backfills from start_date: GitHub's since where it has one, newest-first listings cut there", async () => {
    const pulls = [1, 2, 3, 4].map((n) => item(n, `2024-01-0${n}T00:00:00Z`));
    const issues = [1, 2, 3].map((n) => item(n, `2024-01-0${n}T00:00:00Z`));
    const server = await start({ "acme/app": { id: 1, pulls, issues } });
    const result = await harness(server, { start_date: "2024-01-03T00:00:00Z", page_size_for_large_streams: 1 }).capture({
      bindings: ["issues", "pull_requests"],
      timeoutMs: 60_000,
      until: (p) => backfilled(p, "issues") && backfilled(p, "pull_requests"),
    });
    const by = (c: string) => result.documents.filter(([col]) => col === c).map(([, d]) => d.id);
    expect(by("acmeCo/issues")).toEqual([3]);
    expect(by("acmeCo/pull_requests")).toEqual([4, 3]);
    expect(server.listed("/repos/acme/app/issues").filter((r) => !r.query.sort)[0]!.query).toEqual({ per_page: "1", since: "2024-01-03T00:00:00Z" });
    // The third page holds the first pull request updated before start_date: no fourth.
    expect(server.listed("/repos/acme/app/pulls").filter((r) => r.query.page).map((r) => r.query.page)).toEqual(["2", "3"]);
  });
});

describe("source-github across repositories and under GitHub's limits", () => {
  it("expands owner/* and owner/prefix*, one subtask each, with requests in parallel up to max_concurrent_requests", async () => {
    const repos: Record<string, FakeRepository> = {};
    for (let r = 1; r <= 6; r++) repos[`acme/repo${r}`] = { id: r, issues: [item(r * 10 + 1, "2024-01-01T00:00:00Z"), item(r * 10 + 2, "2024-01-02T00:00:00Z")] };
    repos["ada/web-app"] = { id: 7, issues: [item(71, "2024-01-01T00:00:00Z")] };
    repos["ada/cli"] = { id: 8, issues: [item(81, "2024-01-01T00:00:00Z")] };
    const server = await start(repos, { orgs: { acme: Object.keys(repos).filter((r) => r.startsWith("acme/")) }, delayMs: 40 });
    const result = await harness(server, { repositories: ["acme/*", "ada/web*"], max_concurrent_requests: 2 }).capture({
      bindings: ["issues"],
      timeoutMs: 60_000,
      until: (p) => backfilled(p, "issues") && p.documents.length === 13,
    });
    expect(ids(result.documents).sort()).toEqual([11, 12, 21, 22, 31, 32, 41, 42, 51, 52, 61, 62, 71]);
    expect(Object.keys(bindingState(result, "issues")!.inc!).sort()).toEqual(["acme/repo1", "acme/repo2", "acme/repo3", "acme/repo4", "acme/repo5", "acme/repo6", "ada/web-app"]);
    expect(server.maxInFlight).toBe(2);
  });

  it("slows down under x-ratelimit-remaining and never gets refused, and waits out a secondary limit's Retry-After", async () => {
    const issues = Array.from({ length: 12 }, (_, i) => item(i + 1, `2024-01-${String(i + 1).padStart(2, "0")}T00:00:00Z`));
    const server = await start({ "acme/app": { id: 1, issues } }, { rateLimit: { limit: 5, windowMs: 2000, algorithm: "fixed-window", headers: "x-ratelimit" } });
    server.server.inject({ path: "/repos/acme/app/issues", status: 403, headers: { "retry-after": "1", "x-ratelimit-remaining": "4000" }, body: '{"message":"You have exceeded a secondary rate limit."}' });
    const result = await harness(server, { page_size_for_large_streams: 1 }).capture({ bindings: ["issues"], timeoutMs: 120_000, until: (p) => backfilled(p, "issues") });
    expect(ids(result.documents)).toEqual([12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    expect(server.server.requests.filter((r) => r.status === 429)).toEqual([]);
    const requests = server.server.requestsTo("/repos/acme/app/issues");
    expect(requests[0]!.status).toBe(403);
    expect(requests[1]!.at - requests[0]!.at).toBeGreaterThanOrEqual(950);
  });

  it("after a secondary limit that names no wait, holds every request for the minute GitHub asks for", async () => {
    const server = await start({ "acme/app": { id: 1 } });
    server.server.inject({ path: "/repos/acme/app", status: 403, body: '{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}' });
    // The client's warning that it retries is the event to wait on.
    const stream = new PassThrough();
    const warned = new Promise<string>((resolve) => stream.on("data", (line: Buffer) => /answered HTTP 403; retrying/.test(String(line)) && resolve(String(line))));
    const stop = new AbortController();
    const config = parseWithSchema<Config>(configSchema, { credentials: { personal_access_token: TOKEN }, repositories: ["acme/app"], api_url: server.url }, "config");
    const api = new GitHub(config, createLogger({ level: "warn", stream }), stop.signal);
    const before = Date.now();
    const pending = api.get("repos/acme/app", stop.signal);
    await warned;
    expect(api.http.rateLimiter!.pausedUntil).toBeGreaterThanOrEqual(before + SECONDARY_LIMIT_PAUSE_MS);
    expect(server.server.requestsTo("/repos/acme/app").map((r) => r.status)).toEqual([403]);
    stop.abort();
    await expect(pending).rejects.toThrow();
    expect(server.server.requestsTo("/repos/acme/app")).toHaveLength(1);
  });

  it("retries GitHub's 5xx and dropped connections, and fails clearly on refused credentials", async () => {
    const server = await start({ "acme/app": { id: 1, issues: [item(1, "2024-01-01T00:00:00Z")] } });
    server.server.inject({ path: "/repos/acme/app/issues", status: 502, times: 2 }).inject({ path: "/repos/acme/app/issues", status: 0, drop: true });
    const result = await harness(server).capture({ bindings: ["issues"], timeoutMs: 60_000, until: (p) => backfilled(p, "issues") });
    expect(ids(result.documents)).toEqual([1]);
    expect(server.server.requestsTo("/repos/acme/app/issues").map((r) => r.status).slice(0, 4)).toEqual([502, 502, 0, 200]);

    server.server.inject({ status: 401, body: '{"message":"Bad credentials"}' });
    await expect(harness(server).capture({ bindings: ["issues"], timeoutMs: 60_000 })).rejects.toThrow(/repositories: acme\/app: GitHub refused the credentials \(HTTP 401\)/);
    expect(server.server.requests.at(-1)!.headers.authorization).toBe(`token ${TOKEN}`);
  });
});
