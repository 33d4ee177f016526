import { describe, expect, it } from "vitest";
import type { OpsLog } from "../host/index.js";
import { sleep } from "../util/abort.js";
import { openRequest, serveInProcess } from "../../test/helpers/inProcess.js";
import { createConnectorHarness, type HarnessCaptureProgress } from "../testing/index.js";
import { defineConnector } from "./connector.js";
import { defineIncrementalResource, type IncrementalResourceDefinition } from "./incremental.js";

/** An API of items with a second-resolution `updated` timestamp, as many SaaS APIs have. */
class ItemsApi {
  readonly items = new Map<string, { id: string; updated: string; v: number; account?: string }>();
  polls: string[] = [];
  private pollWaiters: { count: number; stop: AbortController }[] = [];

  /** A signal that aborts once the API has been polled `more` more times: waits on polls, not on time. */
  afterPolls(more: number): AbortSignal {
    const stop = new AbortController();
    this.pollWaiters.push({ count: this.polls.length + more, stop });
    return stop.signal;
  }

  put(id: string, updated: string, account?: string) {
    const v = (this.items.get(id)?.v ?? 0) + 1;
    this.items.set(id, { id, updated, v, ...(account ? { account } : {}) });
  }

  /** `updated >= since`, oldest first: inclusive, as the layer's contract asks. */
  changedSince(since: Date, account?: string) {
    this.polls.push(since.toISOString());
    for (const w of this.pollWaiters) if (this.polls.length >= w.count) w.stop.abort();
    return [...this.items.values()]
      .filter((i) => Date.parse(i.updated) >= since.getTime() && (account === undefined || i.account === account))
      .sort((a, b) => a.updated.localeCompare(b.updated) || a.id.localeCompare(b.id));
  }
}

const itemSchema = {
  type: "object",
  properties: { id: { type: "string" }, updated: { type: "string" }, v: { type: "integer" }, account: { type: "string" } },
  required: ["id", "updated", "v"],
} as const;

/** The items resource, with `extra` replacing any of its parts (fetch functions loosely typed, as tests vary them). */
function itemsConnector(api: ItemsApi, extra: Record<string, unknown> = {}) {
  return defineConnector({
    documentationUrl: "https://example.com",
    config: { type: "object" },
    resources: [
      defineIncrementalResource({
        name: "items",
        key: ["/id"],
        schema: itemSchema,
        interval: "PT0.05S",
        cursorField: "/updated",
        initialCursor: new Date("2024-01-01T00:00:00Z"),
        async *fetchChanges(since, ctx) {
          const changed = api.changedSince(since, ctx.subtask);
          yield* changed;
          if (changed.length) yield new Date(changed.at(-1)!.updated);
        },
        ...extra,
      } as IncrementalResourceDefinition<typeof itemSchema, Date, number>),
    ],
  });
}

const versions = (p: { documents: readonly [string, Record<string, unknown>][] }) => p.documents.map(([, d]) => `${String(d.id)}@${String(d.v)}`);

describe("incremental resources", () => {
  it("polls with an inclusive cursor: the document at the cursor is not sent twice, and a later one with the same value is not lost", async () => {
    const api = new ItemsApi();
    api.put("a", "2024-01-01T00:00:01Z");
    api.put("b", "2024-01-01T00:00:02Z");
    const harness = createConnectorHarness(itemsConnector(api));
    const first = await harness.capture({ until: (p) => p.documents.length >= 2 });
    expect(versions(first)).toEqual(["a@1", "b@1"]);
    expect(first.state).toMatchObject({ bindingStateV1: { items: { inc: { cursor: { $date: "2024-01-01T00:00:02.000Z" } } } } });

    // Written after the poll with the same second as the cursor: an exclusive filter loses it.
    api.put("c", "2024-01-01T00:00:02Z");
    // A new version of the document at the cursor, with the same timestamp: not a duplicate.
    api.put("b", "2024-01-01T00:00:02Z");
    const second = await harness.capture({ state: first.state, until: (p) => p.documents.length >= 2 });
    expect(versions(second).sort()).toEqual(["b@2", "c@1"]);
    const third = await harness.capture({ state: second.state, signal: api.afterPolls(5) });
    expect(versions(third)).toEqual([]);
  });

  it("re-reads a lookback window for late writes, without sending again what it already sent", async () => {
    const api = new ItemsApi();
    api.put("a", "2024-01-01T00:10:00Z");
    api.put("b", "2024-01-01T00:20:00Z");
    const harness = createConnectorHarness(itemsConnector(api, { lookback: "15m" }));
    const first = await harness.capture({ until: (p) => p.documents.length >= 2 });
    expect(versions(first)).toEqual(["a@1", "b@1"]);
    // A write that became visible late, stamped before the cursor but inside the window.
    api.put("late", "2024-01-01T00:12:00Z");
    const second = await harness.capture({ state: first.state, signal: api.afterPolls(4) });
    expect(versions(second)).toEqual(["late@1"]);
    expect(api.polls.at(-1)).toBe("2024-01-01T00:05:00.000Z");
  });

  it("advances each subtask's cursor on its own", async () => {
    const api = new ItemsApi();
    api.put("a1", "2024-01-01T00:00:01Z", "acme");
    api.put("b1", "2024-01-01T00:00:05Z", "globex");
    const connector = itemsConnector(api, { subtasks: () => ["acme", "globex"] });
    const harness = createConnectorHarness(connector);
    const done = (p: HarnessCaptureProgress) => p.documents.length >= 2;
    const first = await harness.capture({ until: done });
    expect(versions(first).sort()).toEqual(["a1@1", "b1@1"]);
    expect(first.state).toEqual({
      bindingStateV1: {
        items: {
          inc: {
            acme: { cursor: { $date: "2024-01-01T00:00:01.000Z" }, seen: [expect.any(Array)] },
            globex: { cursor: { $date: "2024-01-01T00:00:05.000Z" }, seen: [expect.any(Array)] },
          },
        },
      },
    });
  });

  it("fails clearly when fetchChanges yields documents without a cursor after them", async () => {
    const connector = defineConnector({
      documentationUrl: "https://example.com",
      config: { type: "object" },
      resources: [
        defineIncrementalResource({
          name: "broken",
          key: ["/id"],
          schema: { type: "object", properties: { id: { type: "integer" } }, required: ["id"] },
          initialCursor: 0,
          async *fetchChanges() {
            yield { id: 1 };
          },
        }),
      ],
    });
    await expect(createConnectorHarness(connector).capture({ timeoutMs: 20_000 })).rejects.toThrow(/yielded 1 document\(s\) and then returned without yielding the cursor/);
  });

  it("refuses at validate an interval or schedule it cannot read, naming the field", async () => {
    const api = new ItemsApi();
    const harness = createConnectorHarness(itemsConnector(api));
    await expect(harness.capture({ bindings: [{ resource: { name: "items", interval: "soon", schedule: "every day" } }] })).rejects.toThrow(
      /resourceConfig\.interval: "soon" is not an interval.*resourceConfig\.schedule: "every day" is not a cron expression/s,
    );
  });

  it("commits a backfill page before a newer version the incremental task fetched after it, so the last write is the newest", async () => {
    const api = new ItemsApi();
    api.put("x", "2023-06-01T00:00:00Z");
    let incrementalCommitted: (() => void) | undefined;
    const connector = itemsConnector(api, {
      initialCursor: new Date("2024-01-01T00:00:00Z"),
      async *fetchChanges(since: Date) {
        const changed = api.changedSince(since);
        yield* changed;
        if (changed.length) yield new Date(changed.at(-1)!.updated);
        // Resumed after the cursor: what it yielded is committed.
        if (changed.length) incrementalCommitted?.();
      },
      async *fetchPage() {
        yield { ...api.items.get("x")! };
        // The item changes after the page was read; the incremental task sees the new version.
        api.put("x", "2024-01-01T00:00:05Z");
        // Were the incremental task free to poll and commit now, the page's older version would
        // land after the newer one. It is not: this waits in vain, for as long as it may.
        await Promise.race([new Promise<void>((resolve) => (incrementalCommitted = resolve)), sleep(500)]);
      },
    });
    const result = await createConnectorHarness(connector).capture({ until: (p) => p.documents.length >= 2 });
    expect(versions(result)).toEqual(["x@1", "x@2"]);
  });

  it("drops backfill documents at or after the cutoff, and removes the backfill's state when it completes", async () => {
    const api = new ItemsApi();
    api.put("old", "2023-01-01T00:00:00Z");
    api.put("new", "2024-02-01T00:00:00Z");
    const pages: (number | undefined)[] = [];
    const connector = itemsConnector(api, {
      async *fetchPage(page: number | undefined) {
        pages.push(page);
        const all = [...api.items.values()];
        const at = page ?? 0;
        yield all[at]!;
        if (at + 1 < all.length) yield at + 1;
      },
    });
    const logs: OpsLog[] = [];
    const harness = createConnectorHarness(connector, { onLog: (l) => logs.push(l) });
    const result = await harness.capture({ until: (p) => p.documents.length >= 2 && !("backfill" in (p.state.bindingStateV1 as { items: object }).items) });
    // "new" came once, from the incremental task: its backfill copy was at the cutoff's side.
    expect(versions(result).sort()).toEqual(["new@1", "old@1"]);
    expect(pages).toEqual([undefined, 1]);
    expect(result.states.map((s) => s.updated)).toContainEqual({ bindingStateV1: { items: { backfill: { next: 1 } } } });
    expect(result.states.map((s) => s.updated)).toContainEqual({ bindingStateV1: { items: { backfill: null } } });
    const statuses = logs.filter((l) => l.fields.eventType === "connectorStatus").map((l) => l.message);
    expect(statuses).toEqual(["Capture started.", "Backfilling 1 of 1 binding", "Caught up: the binding is backfilled"]);
  });

  it("runs the backfill again when its schedule fires, from the incremental cursor", async () => {
    const api = new ItemsApi();
    api.put("a", "2024-01-01T00:00:01Z");
    let backfills = 0;
    const connector = itemsConnector(api, {
      initialCursor: new Date("2024-01-01T00:00:00Z"),
      schedule: "* * * * * *", // every second (croner's six-field form)
      async *fetchPage(page: undefined, cutoff: Date) {
        backfills++;
        yield { id: `marker-${backfills}`, updated: new Date(cutoff.getTime() - 1).toISOString(), v: 0 };
      },
    });
    const result = await createConnectorHarness(connector).capture({ until: () => backfills >= 3 });
    const state = (result.state as { bindingStateV1: { items: { backfilledAt: string; inc: object } } }).bindingStateV1.items;
    expect(state.backfilledAt).toEqual(expect.any(String));
    // Each scheduled backfill got the committed incremental cursor as its cutoff.
    const cutoffs = result.states.flatMap((s) => {
      const b = (s.updated.bindingStateV1 as { items?: { backfill?: { cutoff?: { $date: string } } } }).items?.backfill?.cutoff;
      return b ? [b.$date] : [];
    });
    expect(cutoffs.length).toBeGreaterThanOrEqual(2);
    expect(cutoffs.at(-1)).toBe("2024-01-01T00:00:01.000Z");
  });

  it("emits a sourced schema the source reports, closed as Flow requires, and commits it", async () => {
    const connector = defineConnector({
      documentationUrl: "https://example.com",
      config: { type: "object" },
      resources: [
        defineIncrementalResource({
          name: "events",
          key: ["/id"],
          schema: { type: "object" },
          initialCursor: 0,
          async *fetchChanges(cursor, ctx) {
            if (cursor > 0) return;
            yield ctx.sourcedSchema({ type: "object", properties: { id: { type: "integer" }, tags: { type: "object", properties: { a: { type: "string" } } } } });
            yield { id: 1 };
            yield 1;
          },
        }),
      ],
    });
    const run = serveInProcess(connector);
    run.send(openRequest({}, ["events"]));
    await run.stdout.until((lines) => lines.some((l) => l.includes('"checkpoint"') && l.includes('"cursor":1')));
    run.end();
    expect(await run.exitCode).toBe(0);
    const out = run.stdout.json;
    const at = out.findIndex((m) => "sourcedSchema" in m);
    expect(out[at]).toEqual({
      sourcedSchema: {
        documentSchema: {
          type: "object",
          properties: { id: { type: "integer" }, tags: { type: "object", properties: { a: { type: "string" } }, additionalProperties: false } },
          additionalProperties: false,
        },
      },
    });
    expect(out[at + 1]).toEqual({ captured: { doc: { id: 1 } } });
    expect(out[at + 2]).toMatchObject({ checkpoint: { state: { updated: { bindingStateV1: { events: { inc: { cursor: 1 } } } } } } });
  });
});
