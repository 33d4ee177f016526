import { gzipSync } from "node:zlib";
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../runtime/index.js";
import { applyMergePatch } from "../../util/mergePatch.js";
import { AirbyteStateKeeper, decodeCompressedState, type StateBinding } from "./state.js";

const log = createLogger({ stream: new Writable({ write: (_c, _e, cb) => cb() }) });
const bindings: StateBinding[] = [
  { stream: "users", stateKey: "users" },
  { stream: "orders", namespace: "shop", stateKey: "shop%2Forders.v2" },
];

/** Applies checkpoints as Flow's runtime reduces them. */
function reduce(state: unknown, cp: { updated: object; mergePatch: boolean }): Record<string, unknown> {
  return (cp.mergePatch ? applyMergePatch(state, cp.updated) : cp.updated) as Record<string, unknown>;
}

describe("AirbyteStateKeeper", () => {
  it("keeps STREAM state under each binding's state key, as merge patches of what changed", () => {
    const keeper = new AirbyteStateKeeper({}, bindings, log);
    expect(keeper.input()).toBeUndefined();
    keeper.apply({ type: "STREAM", stream: { stream_descriptor: { name: "users" }, stream_state: { cursor: 1, page: { n: 1 } } } });
    const cp1 = keeper.commit();
    expect(cp1).toEqual({ updated: { bindingStateV1: { users: { stream: { cursor: 1, page: { n: 1 } } } }, airbyte: { kind: "STREAM" } }, mergePatch: true });
    keeper.apply({ type: "STREAM", stream: { stream_descriptor: { name: "users" }, stream_state: { cursor: 2, page: { n: 1 } } } });
    const cp2 = keeper.commit();
    expect(cp2).toEqual({ updated: { bindingStateV1: { users: { stream: { cursor: 2 } } } }, mergePatch: true });
    keeper.apply({ type: "STREAM", stream: { stream_descriptor: { name: "orders", namespace: "shop" }, stream_state: { since: "2024" } } });
    const state = reduce(reduce(reduce({}, cp1), cp2), keeper.commit());
    expect(state).toEqual({
      bindingStateV1: { users: { stream: { cursor: 2, page: { n: 1 } } }, "shop%2Forders.v2": { stream: { since: "2024" } } },
      airbyte: { kind: "STREAM" },
    });
    // Handed back as the array of STREAM messages the source reads.
    expect(new AirbyteStateKeeper(state, bindings, log).input()).toEqual({
      kind: "STREAM",
      value: [
        { type: "STREAM", stream: { stream_descriptor: { name: "users" }, stream_state: { cursor: 2, page: { n: 1 } } } },
        { type: "STREAM", stream: { stream_descriptor: { name: "orders", namespace: "shop" }, stream_state: { since: "2024" } } },
      ],
    });
  });

  it("reports streams it cannot keep, and resets a stream on a null stream_state", () => {
    const keeper = new AirbyteStateKeeper({ bindingStateV1: { users: { stream: { cursor: 9 } } }, airbyte: { kind: "STREAM" } }, bindings, log);
    expect(keeper.apply({ type: "STREAM", stream: { stream_descriptor: { name: "unbound" }, stream_state: { x: 1 } } })).toEqual([{ name: "unbound" }]);
    keeper.apply({ type: "STREAM", stream: { stream_descriptor: { name: "users" }, stream_state: null } });
    expect(keeper.commit()).toEqual({ updated: { bindingStateV1: { users: { stream: null } } }, mergePatch: true });
  });

  it("forgets a binding's source state in every layout, keeping its row bookkeeping and the other bindings' state", () => {
    const stored = {
      bindingStateV1: {
        users: { legacy: { cursor: 3 }, state: { stream: { stream_state: { cursor: 2 } } }, rows: 4 },
        "shop%2Forders.v2": { stream: { since: "2024" } },
      },
      airbyte: { kind: "STREAM" },
    };
    const keeper = new AirbyteStateKeeper(stored, bindings, log);
    keeper.forgetSourceState("users");
    expect(keeper.commit()).toEqual({ updated: { bindingStateV1: { users: { legacy: null, state: null } } }, mergePatch: true });
    keeper.forgetSourceState("users");
    expect(keeper.commit()).toEqual({ updated: {}, mergePatch: true });
    expect(keeper.whole().bindingStateV1).toEqual({ users: { rows: 4 }, "shop%2Forders.v2": { stream: { since: "2024" } } });
  });

  it("replaces the whole state when a value holds nulls, which a merge patch would delete", () => {
    const keeper = new AirbyteStateKeeper({ other: 1, bindingStateV1: { users: { stream: { cursor: 1 } } }, airbyte: { kind: "STREAM" } }, bindings, log);
    keeper.apply({ type: "STREAM", stream: { stream_descriptor: { name: "users" }, stream_state: { cursor: null, after: "x" } } });
    const cp = keeper.commit();
    expect(cp.mergePatch).toBe(false);
    expect(cp.updated).toEqual({ other: 1, bindingStateV1: { users: { stream: { cursor: null, after: "x" } } }, airbyte: { kind: "STREAM" } });
    // And goes back to patches afterwards.
    keeper.apply({ type: "STREAM", stream: { stream_descriptor: { name: "users" }, stream_state: { cursor: null, after: "y" } } });
    expect(keeper.commit()).toEqual({ updated: { bindingStateV1: { users: { stream: { after: "y" } } } }, mergePatch: true });
  });

  it("splits GLOBAL state into the shared slot and each stream's state key, and hands it back whole", () => {
    const keeper = new AirbyteStateKeeper({}, bindings, log);
    keeper.apply({
      type: "GLOBAL",
      global: {
        shared_state: { lsn: 42 },
        stream_states: [
          { stream_descriptor: { name: "users" }, stream_state: { c: 1 } },
          { stream_descriptor: { name: "orders", namespace: "shop" }, stream_state: { c: 2 } },
        ],
      },
    });
    const state = reduce({}, keeper.commit());
    expect(state).toEqual({
      bindingStateV1: { users: { stream: { c: 1 } }, "shop%2Forders.v2": { stream: { c: 2 } } },
      airbyte: { kind: "GLOBAL", shared: { lsn: 42 } },
    });
    const again = new AirbyteStateKeeper(state, bindings, log);
    expect(again.input()).toEqual({
      kind: "GLOBAL",
      value: [
        {
          type: "GLOBAL",
          global: {
            shared_state: { lsn: 42 },
            stream_states: [
              { stream_descriptor: { name: "users" }, stream_state: { c: 1 } },
              { stream_descriptor: { name: "orders", namespace: "shop" }, stream_state: { c: 2 } },
            ],
          },
        },
      ],
    });
    // A GLOBAL message is the whole state: a stream it no longer lists has none.
    again.apply({ type: "GLOBAL", global: { shared_state: { lsn: 43 }, stream_states: [{ stream_descriptor: { name: "users" }, stream_state: { c: 1 } }] } });
    expect(again.commit()).toEqual({ updated: { bindingStateV1: { "shop%2Forders.v2": { stream: null } }, airbyte: { shared: { lsn: 43 } } }, mergePatch: true });
  });

  it("splits a LEGACY blob by stream name, keeps the rest globally, and hands the blob back", () => {
    const keeper = new AirbyteStateKeeper({}, bindings, log);
    keeper.apply({ data: { users: { updatedAt: "2024-01-01" }, orders: { id: 5 }, cdc: false } });
    const state = reduce({}, keeper.commit());
    expect(state).toEqual({
      bindingStateV1: { users: { legacy: { updatedAt: "2024-01-01" } }, "shop%2Forders.v2": { legacy: { id: 5 } } },
      airbyte: { kind: "LEGACY", legacy: { cdc: false } },
    });
    expect(new AirbyteStateKeeper(state, bindings, log).input()).toEqual({ kind: "LEGACY", value: { cdc: false, users: { updatedAt: "2024-01-01" }, orders: { id: 5 } } });
    expect(new AirbyteStateKeeper(state, bindings, log, { legacyForm: "message" }).input()?.value).toEqual([
      { type: "LEGACY", data: { cdc: false, users: { updatedAt: "2024-01-01" }, orders: { id: 5 } } },
    ]);
    // A binding whose backfill was bumped (a new state key) starts over; the others keep theirs.
    const bumped = [bindings[0]!, { ...bindings[1]!, stateKey: "shop%2Forders.v3" }];
    expect(new AirbyteStateKeeper(state, bumped, log).input()?.value).toEqual({ cdc: false, users: { updatedAt: "2024-01-01" } });
  });

  it("decodes Faros' gzip+base64 LEGACY state, so patches stay small and readable", () => {
    const compressed = (data: unknown) => ({ format: "base64/gzip", data: gzipSync(JSON.stringify(data)).toString("base64") });
    const keeper = new AirbyteStateKeeper({}, bindings, log);
    keeper.apply({ data: compressed({ users: { cutoff: 1 } }) });
    expect(keeper.commit().updated).toEqual({ bindingStateV1: { users: { legacy: { cutoff: 1 } } }, airbyte: { kind: "LEGACY" } });
    keeper.apply({ data: compressed({ users: { cutoff: 2 } }) });
    expect(keeper.commit().updated).toEqual({ bindingStateV1: { users: { legacy: { cutoff: 2 } } } });
    expect(decodeCompressedState({ format: "base64/gzip", data: "not gzip" }, log)).toEqual({ format: "base64/gzip", data: "not gzip" });
    expect(decodeCompressedState({ a: 1 })).toEqual({ a: 1 });
  });

  it("withholds the state of withheld (snapshot) bindings from the next read", () => {
    const state = { bindingStateV1: { users: { stream: { c: 1 } }, "shop%2Forders.v2": { stream: { c: 2 } } }, airbyte: { kind: "STREAM" } };
    const keeper = new AirbyteStateKeeper(state, [bindings[0]!, { ...bindings[1]!, withheld: true }], log);
    expect(keeper.input()?.value).toEqual([{ type: "STREAM", stream: { stream_descriptor: { name: "users" }, stream_state: { c: 1 } } }]);
  });

  it("reads the state Estuary's Python shim wrote, and moves it to its own layout", () => {
    const estuary = { bindingStateV1: { users: { rowId: 17, state: { type: "STREAM", stream: { stream_descriptor: { name: "users" }, stream_state: { cursor: "2024" } } } } } };
    const keeper = new AirbyteStateKeeper(estuary, bindings, log);
    expect(keeper.input()?.value).toEqual([{ type: "STREAM", stream: { stream_descriptor: { name: "users" }, stream_state: { cursor: "2024" } } }]);
    expect(keeper.slot("users").rowId).toBe(17);
    keeper.apply({ type: "STREAM", stream: { stream_descriptor: { name: "users" }, stream_state: { cursor: "2025" } } });
    expect(reduce(estuary, keeper.commit())).toEqual({ bindingStateV1: { users: { rowId: 17, stream: { cursor: "2025" } } }, airbyte: { kind: "STREAM" } });
  });

  describe("state airbyte-to-flow wrote (the source's own state at the top level)", () => {
    /** A logger whose lines the test reads. */
    function capturing() {
      const lines: { level: string; message: string }[] = [];
      const stream = new Writable({ write: (c: Buffer, _e, cb) => (lines.push(...c.toString().trim().split("\n").map((l) => JSON.parse(l) as { level: string; message: string })), cb()) });
      return { log: createLogger({ stream }), lines };
    }

    it("is picked up as the LEGACY blob it is, handed back whole, and rewritten in flowcap's layout by the first checkpoint", () => {
      // What airbyte-to-flow persisted for a LEGACY source: the blob, keyed by stream name, plus keys of its own.
      const atf = { users: { updated_at: "2024-01-01" }, orders: { id: 7 }, version: 2 };
      const { log: l, lines } = capturing();
      const keeper = new AirbyteStateKeeper(atf, bindings, l);
      expect(keeper.input()).toEqual({ kind: "LEGACY", value: atf });
      expect(lines.some((x) => x.level === "info" && x.message.startsWith("picking up state in airbyte-to-flow's layout (the source's LEGACY state blob"))).toBe(true);
      keeper.apply({ type: "LEGACY", data: { ...atf, users: { updated_at: "2024-02-02" } } });
      const cp = keeper.commit();
      // A replacement: a merge patch would leave airbyte-to-flow's top-level keys behind.
      expect(cp.mergePatch).toBe(false);
      const state = reduce(atf, cp);
      expect(Object.keys(state).sort()).toEqual(["airbyte", "bindingStateV1"]);
      expect(new AirbyteStateKeeper(state, bindings, log).input()).toEqual({ kind: "LEGACY", value: { ...atf, users: { updated_at: "2024-02-02" } } });
      // Later checkpoints are merge patches again.
      keeper.apply({ type: "LEGACY", data: { ...atf, users: { updated_at: "2024-03-03" } } });
      expect(keeper.commit().mergePatch).toBe(true);
    });

    it("with AIRBYTE_TO_FLOW_STATE_FORMAT=per_stream, is each bound stream's STREAM state; entries no binding captures are named in a warning", () => {
      const atf = { users: { cursor: 5 }, gone: { cursor: 1 } };
      const { log: l, lines } = capturing();
      const keeper = new AirbyteStateKeeper(atf, bindings, l, { foreignForm: "per_stream" });
      expect(keeper.input()).toEqual({ kind: "STREAM", value: [{ type: "STREAM", stream: { stream_descriptor: { name: "users" }, stream_state: { cursor: 5 } } }] });
      expect(lines.some((x) => x.message.includes("AIRBYTE_TO_FLOW_STATE_FORMAT=per_stream"))).toBe(true);
      expect(lines.some((x) => x.level === "warn" && x.message.includes('"gone"'))).toBe(true);
      expect(keeper.commit().mergePatch).toBe(false);
    });

    it("a source moving from LEGACY to STREAM state resumes each stream from its share of the blob", () => {
      const keeper = new AirbyteStateKeeper({ users: { cursor: 5 }, orders: { cursor: 9 } }, bindings, log);
      keeper.apply({ type: "STREAM", stream: { stream_descriptor: { name: "users" }, stream_state: { cursor: 6 } } });
      const state = reduce({}, keeper.commit());
      expect(new AirbyteStateKeeper(state, bindings, log).input()).toEqual({
        kind: "STREAM",
        value: [
          { type: "STREAM", stream: { stream_descriptor: { name: "users" }, stream_state: { cursor: 6 } } },
          { type: "STREAM", stream: { stream_descriptor: { name: "orders", namespace: "shop" }, stream_state: { cursor: 9 } } },
        ],
      });
    });
  });
});
