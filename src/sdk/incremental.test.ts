import { describe, expect, it } from "vitest";
import { createConnectorHarness, type HarnessCaptureProgress } from "../testing/index.js";
import { defineConnector } from "./connector.js";
import { defineIncrementalResource } from "./incremental.js";

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

function itemsConnector(api: ItemsApi, extra: Partial<Parameters<typeof defineIncrementalResource>[0]> = {}) {
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
      } as Parameters<typeof defineIncrementalResource>[0]),
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
          schema: { type: "object" },
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
});
