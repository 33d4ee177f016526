import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConnectorProcess, INTERNAL_SPEC_REQUEST, openRequest, reduceState, type LocalEndpoint, type OpsLog } from "../../src/host/index.js";
import { stateKey, type CaptureSpec } from "../../src/protocol/index.js";
import { repoRoot } from "../helpers/fixtures.js";
import { ItemsApi, seededRandom, type Item } from "../helpers/itemsApi.js";

const ITEMS = 10_000;
const KILLS = 20;
const API_KEY = "items-api-key-8c1f0a";

/**
 * A backfill of 10,000 items (100 pages) while items are created and updated underneath,
 * interleaved with incremental polls, the connector killed with SIGKILL at 20 seeded random
 * points and resumed each time from the state its committed checkpoints reduce to, as Flow's
 * runtime would. Then a backfill counter bump.
 */
describe("an incremental resource with a backfill, killed and resumed", () => {
  const api = new ItemsApi(API_KEY);
  let endpoint: LocalEndpoint;
  const random = seededRandom(12);
  let mutator: NodeJS.Timeout | undefined;

  beforeAll(async () => {
    for (let i = 0; i < ITEMS; i++) api.create();
    const baseUrl = await api.listen();
    endpoint = {
      kind: "local",
      command: [process.execPath, path.join(repoRoot, "test/fixtures/connectors/items-api/main.mjs")],
      config: { base_url: baseUrl, api_key: API_KEY },
      env: {},
      cwd: repoRoot,
      protobuf: false,
    };
  });

  afterAll(async () => {
    clearInterval(mutator);
    await api.close();
  });

  const spec = (backfill: number): CaptureSpec => ({
    name: "acmeCo/items",
    connectorType: "LOCAL",
    config: endpoint.config,
    bindings: [
      {
        resourceConfig: { name: "items", interval: "PT0.2S" },
        resourcePath: ["items"],
        collection: { name: "acmeCo/items", key: ["/id"], writeSchema: { type: "object" } },
        backfill,
        stateKey: stateKey(["items"], backfill),
      },
    ],
    intervalSeconds: 300,
  });

  /** Every committed document, in commit order, across sessions. */
  const committed: Item[] = [];
  const logs: OpsLog[] = [];

  /**
   * One session: reads and checks what the connector writes, commits each checkpoint with the
   * documents before it (as Flow's runtime does), and either kills the connector with SIGKILL
   * after `killAfterLines` lines or stops it gracefully once `done` holds of what it committed.
   */
  async function session(options: { state: Record<string, unknown>; backfill?: number; killAfterLines?: number; done?: (state: Record<string, unknown>, docs: Item[]) => boolean }) {
    const proc = ConnectorProcess.start(endpoint, { logLevel: "info", onLog: (l) => logs.push(l) });
    let state = options.state;
    const docs: Item[] = [];
    const checkpoints: Record<string, unknown>[] = [];
    let pending: Item[] = [];
    let lines = 0;
    try {
      await proc.send(INTERNAL_SPEC_REQUEST);
      await proc.send(openRequest(spec(options.backfill ?? 0), state));
      for (let event = await proc.next(); event; event = await proc.next()) {
        lines++;
        if (event.variant === "captured") pending.push(event.response.captured!.doc as unknown as Item);
        else if (event.variant === "checkpoint") {
          const update = event.response.checkpoint!.state;
          state = reduceState(state, update);
          checkpoints.push(update.updated);
          docs.push(...pending);
          committed.push(...pending);
          pending = [];
          if (options.done?.(state, docs)) {
            await proc.stop(20_000);
            return { state, docs, checkpoints, killed: false };
          }
        }
        if (options.killAfterLines !== undefined && lines >= options.killAfterLines) {
          proc.kill(); // SIGKILL: what was sent after the last checkpoint is lost, as in a crash
          await proc.exited;
          return { state, docs, checkpoints, killed: true };
        }
      }
      await proc.finish();
      throw new Error("the connector ended its session by itself");
    } finally {
      proc.kill();
    }
  }

  /** The latest version of every item the API has, against the last committed version of each. */
  function missing(): string[] {
    const last = new Map<number, number>();
    for (const d of committed) last.set(d.id, d.v);
    const out: string[] = [];
    for (const item of api.items.values()) if (last.get(item.id) !== item.v) out.push(`${item.id}@${item.v} (last committed: ${last.get(item.id) ?? "none"})`);
    return out;
  }

  let finalState: Record<string, unknown> = {};

  it("delivers every item's latest version, nothing lost, nothing committed twice", async () => {
    // Underneath: updates of random items and new items, all along.
    mutator = setInterval(() => {
      for (let i = 0; i < 2; i++) api.update(1 + Math.floor(random() * api.items.size));
      if (random() < 0.2) api.create();
    }, 20);

    let state: Record<string, unknown> = {};
    let killed = 0;
    /** Which part of the binding state each committed checkpoint of the killed sessions moved. */
    const kinds: string[] = [];
    while (killed < KILLS) {
      // Mostly inside the backfill (about 10,100 lines): pages, polls and kills interleave.
      const killAfterLines = 1 + Math.floor(random() * 800);
      const result = await session({ state, killAfterLines });
      kinds.push(...result.checkpoints.map((c) => Object.keys(((c.bindingStateV1 as Record<string, object>).items ?? {}) as object).join("+")));
      state = result.state;
      if (result.killed) killed++;
    }
    // The incremental task committed between backfill pages: they ran concurrently.
    const firstPage = kinds.indexOf("backfill");
    expect(kinds.slice(firstPage).join(" "), "an incremental checkpoint between two backfill pages").toMatch(/backfill( backfill)* inc( inc)* backfill/);

    // Nothing more underneath: the next session must catch up with everything and finish the backfill.
    clearInterval(mutator);
    const last = await session({ state, done: (s) => !hasBackfill(s, "items") && missing().length === 0 });
    finalState = last.state;
    expect(missing()).toEqual([]);
    expect(finalState).toEqual({ bindingStateV1: { items: { inc: { cursor: { $date: expect.any(String) }, seen: expect.any(Array) } } } });

    // No (item, version) was committed twice: the inclusive boundary and the cutoff drop what
    // was already sent, and a killed session's uncommitted documents are never counted.
    const seen = new Map<string, number>();
    for (const d of committed) seen.set(`${d.id}@${d.v}`, (seen.get(`${d.id}@${d.v}`) ?? 0) + 1);
    expect([...seen].filter(([, n]) => n > 1)).toEqual([]);

    // The status line Flow shows went from backfilling to caught up.
    const statuses = logs.filter((l) => l.fields.eventType === "connectorStatus").map((l) => l.message);
    expect(statuses).toContain("Backfilling 1 of 1 binding");
    expect(statuses).toContain("Caught up: the binding is backfilled");
    // The API key never reached a log line.
    expect(JSON.stringify(logs)).not.toContain(API_KEY);
  }, 240_000);

  it("starts over when the backfill counter is bumped, with nothing of the old state", async () => {
    const before = committed.length;
    const result = await session({ state: finalState, backfill: 1, done: (s) => !hasBackfill(s, "items.v1") && s.bindingStateV1 !== undefined && "items.v1" in (s.bindingStateV1 as object) });
    expect(result.checkpoints[0]).toEqual({ bindingStateV1: { items: null } });
    expect(result.state).toEqual({ bindingStateV1: { "items.v1": { inc: { cursor: { $date: expect.any(String) } } } } });
    // The backfill ran again, from the first page: every item once more.
    const again = new Set(committed.slice(before).map((d) => d.id));
    expect(again.size).toBe(api.items.size);
  }, 120_000);
});

function hasBackfill(state: Record<string, unknown>, key: string): boolean {
  const binding = (state.bindingStateV1 as Record<string, Record<string, unknown>> | undefined)?.[key];
  return binding === undefined || binding.backfill !== undefined;
}
