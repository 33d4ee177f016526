import type { RecordedFixture } from "@octokit/fixtures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PassThrough } from "node:stream";
import { createLogger, defineConnector, parseWithSchema } from "flowcap";
import { createConnectorHarness, type HarnessCaptureProgress, type HarnessCaptureResult } from "flowcap/testing";
import { connector } from "../src/index.js";
import { configSchema, type Config } from "../src/models.js";
import { recording, RECORDED_TOKEN, startOctokitFixtures, type OctokitFixtures } from "./octokitFixtures.js";

/**
 * The connector against recorded real GitHub traffic (@octokit/fixtures): the requests must be
 * exactly the recorded ones (path, query, `accept` and `authorization` headers), each answered once.
 */
const PAGINATE = "octokit-fixture-org/paginate-issues";

/**
 * The connector without its check: validate would ask GitHub for each repository, which the
 * recordings of a capture did not record (the check has its own test, on get-repository).
 */
const uncheckedConnector = defineConnector({ ...connector.definition, check: undefined });

/**
 * paginate-issues recorded the 13 issues of a repository made for the recording, all open. The
 * connector then lists the closed ones, which the recording did not ask for: this exchange answers
 * what GitHub answered for that repository (none), with the recorded first page's headers.
 */
function closedIssuesPage(first: RecordedFixture): RecordedFixture {
  const { link: _link, etag: _etag, ...headers } = first.headers;
  return { ...first, path: `/repos/${PAGINATE}/issues?per_page=3&state=closed`, response: [], headers };
}

let fixtures: OctokitFixtures;
beforeAll(async () => {
  const paginate = recording("paginate-issues");
  fixtures = await startOctokitFixtures({
    "paginate-issues": [...paginate, closedIssuesPage(paginate[0]!)],
    "get-repository": recording("get-repository"),
    labels: recording("labels"),
  });
});
afterAll(() => fixtures?.close());

function config(apiUrl: string, repository: string) {
  return { credentials: { option_title: "PAT Credentials", personal_access_token: RECORDED_TOKEN }, repositories: [repository], api_url: apiUrl, page_size_for_large_streams: 3 };
}

/** The session has committed the end of the repository's backfill. */
const backfilled = (binding: string, repo: string) => (p: HarnessCaptureProgress) => {
  const state = (p.state.bindingStateV1 as Record<string, { backfill?: Record<string, unknown> }> | undefined)?.[binding];
  return state !== undefined && p.documents.length > 0 && state.backfill?.[repo] === undefined;
};

const parseConfig = (value: unknown) => parseWithSchema<Config>(configSchema, value, "config");

const numbers = (result: HarnessCaptureResult) => result.documents.map(([, d]) => d.number);

describe("source-github on recorded GitHub traffic", () => {
  it("captures the 13 issues of paginate-issues over its 5 pages of 3, each once, a checkpoint per page", async () => {
    const apiUrl = await fixtures.load("paginate-issues");
    const harness = createConnectorHarness(uncheckedConnector, { config: config(apiUrl, PAGINATE) });
    const result = await harness.capture({ bindings: ["issues"], until: backfilled("issues", PAGINATE), timeoutMs: 120_000 });
    expect(numbers(result)).toEqual([13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    expect(result.documents[0]![1]).toMatchObject({ repository: PAGINATE, id: 1000, title: "Test issue 13", state: "open" });
    // The binding's start, a checkpoint after each of the 5 pages (the last one's moves on to the
    // closed issues), and the end of the backfill.
    expect(result.checkpoints).toBe(7);
    const id = new URL(apiUrl).pathname;
    expect(fixtures.requests.filter((r) => r.startsWith(`GET ${id}`)).map((r) => r.slice(4 + id.length))).toEqual([
      `/repos/${PAGINATE}/issues?per_page=3`,
      "/repositories/1000/issues?per_page=3&page=2",
      "/repositories/1000/issues?per_page=3&page=3",
      "/repositories/1000/issues?per_page=3&page=4",
      "/repositories/1000/issues?per_page=3&page=5",
      `/repos/${PAGINATE}/issues?state=closed&per_page=3`,
    ]);
  });

  it("resumes a backfill stopped after page 2 from the checkpointed next-page link, losing nothing", async () => {
    const first = await fixtures.load("paginate-issues");
    const harness = (apiUrl: string) => createConnectorHarness(uncheckedConnector, { config: config(apiUrl, PAGINATE) });
    const stopped = await harness(first).capture({ bindings: ["issues"], until: (p) => p.documents.length >= 6, timeoutMs: 120_000 });
    const committed = numbers(stopped);
    expect(committed.slice(0, 6)).toEqual([13, 12, 11, 10, 9, 8]);
    const state = stopped.state as { bindingStateV1: { issues: { backfill: Record<string, { next: [number, string] }> } } };
    const [listing, link] = state.bindingStateV1.issues.backfill[PAGINATE]!.next;
    // Kept relative to api_url, so it resumes against the next session's URL.
    const page = committed.length / 3 + 1;
    expect([listing, link]).toEqual([0, `repositories/1000/issues?per_page=3&page=${page}`]);

    // A recording answers each exchange once, in order: a fresh copy, advanced to that page.
    const second = await fixtures.load("paginate-issues");
    const recorded = { accept: "application/vnd.github.v3+json", authorization: `token ${RECORDED_TOKEN}` };
    await fetch(`${second}/repos/${PAGINATE}/issues?per_page=3`, { headers: recorded }).then((r) => r.arrayBuffer());
    for (let p = 2; p < page; p++) await fetch(`${second}/repositories/1000/issues?per_page=3&page=${p}`, { headers: recorded }).then((r) => r.arrayBuffer());

    const resumed = await harness(second).capture({ bindings: ["issues"], state: stopped.state, until: backfilled("issues", PAGINATE), timeoutMs: 120_000 });
    expect([...committed, ...numbers(resumed)]).toEqual([13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    const id = new URL(second).pathname;
    expect(fixtures.requests.filter((r) => r.startsWith(`GET ${id}`)).at(page - 1)).toBe(`GET ${id}/repositories/1000/issues?per_page=3&page=${page}`);
  });

  it("checks the configured repository, and captures it (get-repository)", async () => {
    const checked = await fixtures.load("get-repository");
    const log = createLogger({ level: "warn", stream: new PassThrough() });
    await connector.definition.check!(parseConfig(config(checked, "octokit-fixture-org/hello-world")), { log, signal: new AbortController().signal });

    const apiUrl = await fixtures.load("get-repository");
    const result = await createConnectorHarness(uncheckedConnector, { config: config(apiUrl, "octokit-fixture-org/hello-world") }).capture({ bindings: ["repositories"], until: (p) => p.documents.length > 0, timeoutMs: 60_000 });
    expect(result.documents).toEqual([
      ["acmeCo/repositories", expect.objectContaining({ id: 1000, full_name: "octokit-fixture-org/hello-world", default_branch: "master", _meta: expect.objectContaining({ op: "c" }) })],
    ]);
  });

  it("captures a repository's labels from the first request of the labels recording", async () => {
    const apiUrl = await fixtures.load("labels");
    const result = await createConnectorHarness(uncheckedConnector, { config: config(apiUrl, "octokit-fixture-org/labels") }).capture({ bindings: ["labels"], until: (p) => p.documents.length > 0, timeoutMs: 60_000 });
    const labels = recording("labels")[0]!.response as { id: number; name: string }[];
    expect(result.documents.map(([, d]) => [d.id, d.name, d.repository])).toEqual(labels.map((l) => [l.id, l.name, "octokit-fixture-org/labels"]));
    expect(labels.length).toBeGreaterThan(5);
  });
});
