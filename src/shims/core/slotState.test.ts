import { describe, expect, it } from "vitest";
import { applyMergePatch } from "../../util/mergePatch.js";
import { SlotState, type StateCheckpoint } from "./slotState.js";

function reduce(state: unknown, cp: StateCheckpoint): Record<string, unknown> {
  return (cp.mergePatch ? applyMergePatch(state, cp.updated) : cp.updated) as Record<string, unknown>;
}

describe("SlotState", () => {
  it("checkpoints merge patches of what changed, keeping other top-level keys", () => {
    const initial = { other: 1, slots: { a: { n: 1, s: "x" } }, global: { g: 1 } };
    const state = new SlotState(initial, "slots", "global");
    expect(state.slot("a")).toEqual({ n: 1, s: "x" });
    state.stage("a", { n: 2, s: undefined });
    state.stage("b", { m: 1 });
    expect(state.slot("a")).toEqual({ n: 2 });
    expect(state.committed("a")).toEqual({ n: 1, s: "x" });
    state.stageGlobal({ g: 1 });
    const cp = state.commit();
    expect(cp).toEqual({ updated: { slots: { a: { n: 2, s: null }, b: { m: 1 } } }, mergePatch: true });
    expect(reduce(initial, cp)).toEqual(state.whole());
    expect(state.commit()).toEqual({ updated: {}, mergePatch: true });
  });

  it("replaces the whole state when a staged value holds a null", () => {
    const state = new SlotState({ slots: { a: { v: { x: 1 } } } }, "slots", "global");
    state.stage("a", { v: { x: null } });
    expect(state.commit()).toEqual({ updated: { slots: { a: { v: { x: null } } } }, mergePatch: false });
  });

  it("tracks map fields entry by entry: a checkpoint carries only the changed entries", () => {
    const initial = { slots: { a: { rowId: 3, keys: { "1": 5, "2": 5, "3": 5 } } } };
    const state = new SlotState(initial, "slots", "global");
    const keys = state.map("a", "keys");
    expect(keys.size).toBe(3);
    expect(state.slot("a")).toEqual({ rowId: 3 }); // the map is no longer a plain field
    keys.set("1", 5); // unchanged
    keys.set("4", 6);
    keys.delete("2");
    state.stage("a", { rowId: 4 });
    const cp1 = state.commit();
    expect(cp1).toEqual({ updated: { slots: { a: { rowId: 4, keys: { "4": 6, "2": null } } } }, mergePatch: true });
    let reduced = reduce(initial, cp1);
    expect(reduced).toEqual(state.whole());
    expect(reduced).toEqual({ slots: { a: { rowId: 4, keys: { "1": 5, "3": 5, "4": 6 } } } });

    // A map of a new slot, and a map emptied (its field goes).
    state.map("b", "keys").set('"x"', 1);
    keys.clear();
    const cp2 = state.commit();
    expect(cp2).toEqual({ updated: { slots: { a: { keys: null }, b: { keys: { '"x"': 1 } } } }, mergePatch: true });
    reduced = reduce(reduced, cp2);
    expect(reduced).toEqual({ slots: { a: { rowId: 4 }, b: { keys: { '"x"': 1 } } } });
    expect(reduced).toEqual(state.whole());

    // A new slot staged and mapped in one checkpoint: the staged slot itself stays map-free.
    state.stage("c", { rowId: 1 });
    state.map("c", "keys").set("k", 1);
    const cp3 = state.commit();
    expect(cp3).toEqual({ updated: { slots: { c: { rowId: 1, keys: { k: 1 } } } }, mergePatch: true });
    expect(state.slot("c")).toEqual({ rowId: 1 });
    expect(reduce(reduced, cp3)).toEqual(state.whole());
  });
});
