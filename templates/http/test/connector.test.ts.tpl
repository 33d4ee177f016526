import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCatalog, runChecks, selectCapture } from "flowcap/host";
<%#oauth2%>
import { lintOAuth } from "flowcap/oauth";
<%/oauth2%>
import { createConnectorHarness, type HarnessCaptureProgress } from "flowcap/testing";
import { MOCK_RECORDS, MOCK_SECRETS, startMockApi, type MockApi } from "../mock/server.js";
import { connector } from "../src/index.js";

let api: MockApi;
/** Every log line the connector wrote, for the check that no credential shows. */
const logLines: string[] = [];

beforeAll(async () => {
  api = await startMockApi(0);
});
afterAll(() => api.close());

/** The connector, run in this process against the mock API. */
const harness = () => createConnectorHarness(connector, { config: api.config, logLevel: "debug", onLog: (log) => void logLines.push(JSON.stringify(log)) });
/** The binding, polling for changes every second. */
const bindings = [{ resource: { name: "<% resource %>", interval: "1s" } }];
/** The binding's state: `inc` (the incremental cursor) and, while it runs, `backfill`. */
const bindingState = (state: Record<string, unknown>) => ((state.bindingStateV1 ?? {}) as Record<string, Record<string, unknown> | undefined>)["<% resource %>"] ?? {};
const ids = (documents: HarnessCaptureProgress["documents"]) => new Set(documents.map(([, doc]) => doc.id as string));

// Each test runs the connector, some several times: on a busy machine that takes longer than
// vitest's 5 s default.
describe("<% name %>", { timeout: 120_000 }, () => {
  it("answers spec and discover as its snapshots say (UPDATE_SNAPSHOTS=1 rewrites them)", async () => {
    const h = harness();
    await h.matchSnapshot(new URL("../snapshots/spec.json", import.meta.url), await h.spec());
    await h.matchSnapshot(new URL("../snapshots/discover.json", import.meta.url), await h.discover());
  });
<%#oauth2%>

  it("declares an oauth2 block that lints clean", async () => {
    const spec = await harness().spec();
    expect(lintOAuth(spec).filter((f) => f.severity === "error")).toEqual([]);
    expect(spec.oauth2?.provider).toBe("<% provider %>");
  });
<%/oauth2%>

  it("backfills every record, then captures changes as they happen, resuming from its state", async () => {
    const h = harness();
    // The first run: the backfill reads the pages of records updated before the binding started.
    const first = await h.capture({ bindings, until: ({ state, documents }) => !bindingState(state).backfill && ids(documents).size === MOCK_RECORDS });
    expect(ids(first.documents).size).toBe(MOCK_RECORDS);
    expect(first.documents).toHaveLength(MOCK_RECORDS);

    // Changes since: the incremental capture picks them up, from the cursor in the state.
    const changed = api.update("<% resource %>-00007");
    const created = api.create();
    const next = await h.capture({ bindings, state: first.state, until: ({ documents }) => ids(documents).has(created.id) && ids(documents).has(changed.id) });
    expect(next.documents.map(([, doc]) => doc)).toEqual([expect.objectContaining(changed), expect.objectContaining(created)]);
    expect(bindingState(next.state).inc).toMatchObject({ cursor: { $date: created.updated_at } });
  });

  it("resumes an interrupted backfill at the page it had reached", async () => {
    const h = harness();
    // Two transactions: the binding's start, then the backfill's first page.
    const first = await h.capture({ bindings, transactions: 2 });
    expect(bindingState(first.state).backfill).toMatchObject({ next: expect.any(String) });
    const rest = await h.capture({ bindings, state: first.state, until: ({ state }) => !bindingState(state).backfill });
    expect(new Set([...ids(first.documents), ...ids(rest.documents)]).size).toBe(api.records.size);
    expect(rest.documents.length).toBeLessThan(api.records.size);
  });

  it("passes flowcap's conformance suite against the mock API", async () => {
    const catalog = await loadCatalog(fileURLToPath(new URL("../test.flow.yaml", import.meta.url)));
    const capture = selectCapture(catalog);
    // test.flow.yaml's config, pointed at this test's mock (on a free port).
    // The suite starts the connector a few dozen times (the crash check kills and resumes it
    // over its trials; `npm run check` runs the default four): a minute or more on a busy machine.
    const results = await runChecks(catalog, { ...capture, endpoint: { ...capture.endpoint, config: api.config } }, { stopGraceMs: 5_000, crash: { trials: 2 } });
    expect(results.filter((r) => r.status === "fail")).toEqual([]);
  }, 240_000);

  it("never shows a credential in a log line", () => {
    expect(logLines.length).toBeGreaterThan(0);
    for (const secret of MOCK_SECRETS) expect(logLines.filter((line) => line.includes(secret))).toEqual([]);
  });
});
