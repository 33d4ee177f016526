import { describe, expect, it } from "vitest";
import { deletionDocument, KeyTracker, keyJson, PENDING_VERSION } from "./keyTracker.js";
import { SlotState } from "./slotState.js";

function see(tracker: KeyTracker, json: string, version: number) {
  const bytes = Buffer.from(json);
  return tracker.see(bytes, 0, bytes.length, version);
}

function tracker(flowState: unknown = {}, maxKeys = 100, key: string[][] = [["id"]]) {
  const keeper = new SlotState(flowState, "bindingStateV1", "global");
  const keyed = new KeyTracker(keeper, "users", key, maxKeys, (keeper.slot("users").keysDropped ?? false) === true);
  return { keeper, keyed };
}

describe("KeyTracker", () => {
  it("tracks nothing until started, then stamps each key with the version that last sent it", () => {
    const { keeper, keyed } = tracker();
    expect(see(keyed, '{"id":1}', 1)).toBe("tracked");
    expect(keyed.tracking).toBe(false);
    expect(keyed.size).toBe(0);
    keyed.start();
    see(keyed, '{"id":1}', 1);
    see(keyed, '{"id":1}', 2);
    see(keyed, '{"id":"a"}', 1);
    expect([...keeper.map("users", "keys")]).toEqual([
      ["1", 2],
      ['"a"', 1],
    ]);
  });

  it("continues with the keys an earlier run kept, and checkpoints only the keys that changed", () => {
    const { keeper, keyed } = tracker({ bindingStateV1: { users: { keys: { "1": 1, "2": 1 } } } });
    keyed.start();
    expect(keyed.size).toBe(2);
    see(keyed, '{"id":2}', 2);
    expect(keeper.commit()).toEqual({ updated: { bindingStateV1: { users: { keys: { "2": 2 } } } }, mergePatch: true });
  });

  it("settling a version removes the keys of older ones and gives pending keys that version", () => {
    const { keyed } = tracker();
    keyed.start();
    see(keyed, '{"id":1}', 1);
    see(keyed, '{"id":2}', PENDING_VERSION);
    see(keyed, '{"id":3}', 3);
    expect(keyed.settle(2)).toEqual(["1"]);
    // The pending key now belongs to version 2; a newer version's key stays.
    expect(keyed.settle(3)).toEqual(["2"]);
    expect(keyed.size).toBe(1);
  });

  it("says a record without its key value is keyless, and tracks nothing for it", () => {
    const { keyed } = tracker();
    keyed.start();
    expect(see(keyed, '{"name":"x"}', 1)).toBe("keyless");
    expect(keyed.size).toBe(0);
  });

  it("stops tracking past its bound: the keys are cleared, keysDropped is kept, and it never starts again", () => {
    const { keeper, keyed } = tracker({}, 2);
    keyed.start();
    expect(see(keyed, '{"id":1}', 1)).toBe("tracked");
    expect(see(keyed, '{"id":2}', 1)).toBe("tracked");
    expect(see(keyed, '{"id":3}', 1)).toBe("dropped");
    expect([keyed.tracking, keyed.dropped, keyed.size]).toEqual([false, true, 0]);
    expect(keeper.slot("users")).toEqual({ keysDropped: true });
    expect(keyed.settle(2)).toEqual([]);
    keeper.commit();
    const later = tracker(keeper.whole());
    later.keyed.start();
    expect([later.keyed.tracking, later.keyed.dropped]).toEqual([false, true]);
  });
});

describe("keyJson and deletionDocument", () => {
  const json = (text: string, key: string[][]) => {
    const bytes = Buffer.from(text);
    return keyJson(bytes, 0, bytes.length, key);
  };

  it("reads a key as its exact text, escapes normalized, numbers beyond 2^53 exact", () => {
    expect(json('{"id":12345678901234567890}', [["id"]])).toBe("12345678901234567890");
    expect(json('{"id":"\\u0061b"}', [["id"]])).toBe('"ab"');
    expect(json('{"a":{"b":1},"c":"x"}', [["a", "b"], ["c"]])).toBe('[1,"x"]');
    expect(json('{"a":{"b":1}}', [["a", "b"], ["c"]])).toBeUndefined();
  });

  it("writes a deletion document with each key value at its location", () => {
    expect(deletionDocument([["id"]], "12345678901234567890", '{"op":"d"}')).toBe('{"id":12345678901234567890,"_meta":{"op":"d"}}');
    expect(JSON.parse(deletionDocument([["a", "b"], ["a", "c"], ["d"]], '[1,"x",null]', '{"op":"d"}'))).toEqual({ a: { b: 1, c: "x" }, d: null, _meta: { op: "d" } });
  });
});
