import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../runtime/index.js";
import { applyMergePatch } from "../../util/mergePatch.js";
import { SingerStateKeeper, type SingerStateBinding } from "./state.js";
import { parseJsonOutput, tapFailure } from "./tap.js";

const log = createLogger({ stream: new Writable({ write: (_c, _e, cb) => cb() }) });
const bindings: SingerStateBinding[] = [
  { stream: "db-public-users", stateKey: "db-public-users", names: ["users", "public-users"] },
  { stream: "orders", stateKey: "orders.v2" },
];

function apply(keeper: SingerStateKeeper, value: string) {
  const line = Buffer.from(`{"type":"STATE","value":${value}}`);
  return keeper.apply(line, 24, line.length - 1);
}

function reduce(state: unknown, cp: { updated: object; mergePatch: boolean }): Record<string, unknown> {
  return (cp.mergePatch ? applyMergePatch(state, cp.updated) : cp.updated) as Record<string, unknown>;
}

describe("SingerStateKeeper", () => {
  it("keeps each bound stream's bookmark under its state key as the tap's own text, the rest beside, as small merge patches", () => {
    const keeper = new SingerStateKeeper({}, bindings, log);
    expect(keeper.input()).toBeUndefined();
    const unknown = apply(keeper, '{"currently_syncing": null, "bookmarks": {"db-public-users": {"lsn": 12345678901234567890, "xmin": null}, "gone": {"x": 1}}}');
    expect(unknown).toEqual(["gone"]);
    const cp1 = keeper.commit();
    expect(cp1).toEqual({
      updated: { bindingStateV1: { "db-public-users": { bookmark: '{"lsn": 12345678901234567890, "xmin": null}' } }, singer: { rest: '{"currently_syncing":null}' } },
      mergePatch: true,
    });
    apply(keeper, '{"currently_syncing": null, "bookmarks": {"db-public-users": {"lsn": 12345678901234567891, "xmin": null}, "orders": {"ts": "2024"}}}');
    const cp2 = keeper.commit();
    expect(cp2).toEqual({
      updated: { bindingStateV1: { "db-public-users": { bookmark: '{"lsn": 12345678901234567891, "xmin": null}' }, "orders.v2": { bookmark: '{"ts": "2024"}' } } },
      mergePatch: true,
    });
    // The next sync gets it back exactly: nulls, and every digit.
    const state = reduce(reduce({}, cp1), cp2);
    expect(new SingerStateKeeper(state, bindings, log).input()).toBe('{"currently_syncing":null,"bookmarks":{"db-public-users":{"lsn": 12345678901234567891, "xmin": null},"orders":{"ts": "2024"}}}');
  });

  it("treats each STATE as the whole state: a bound stream it leaves out loses its bookmark", () => {
    const keeper = new SingerStateKeeper({ bindingStateV1: { "orders.v2": { bookmark: "{}", rowId: 7 } } }, bindings, log);
    apply(keeper, '{"bookmarks": {"db-public-users": {}}}');
    expect(keeper.commit().updated).toEqual({ bindingStateV1: { "db-public-users": { bookmark: "{}" }, "orders.v2": { bookmark: null } } });
  });

  it("keeps a bookmark the tap wrote under another name of the stream, and hands it back under that name", () => {
    const keeper = new SingerStateKeeper({}, bindings, log);
    apply(keeper, '{"bookmarks": {"public-users": {"n": 1}}}');
    const state = reduce({}, keeper.commit());
    expect(state.bindingStateV1).toEqual({ "db-public-users": { bookmark: '{"n": 1}', bookmarkName: "public-users" } });
    expect(new SingerStateKeeper(state, bindings, log).input()).toBe('{"bookmarks":{"public-users":{"n": 1}}}');
  });

  it("keeps a state without a bookmarks object whole, and switches back when the tap does", () => {
    for (const value of ['{"start_date": "2024-01-01"}', "42", '"opaque"', '{"bookmarks": [1, 2]}']) {
      const keeper = new SingerStateKeeper({}, bindings, log);
      apply(keeper, value);
      const state = reduce({}, keeper.commit());
      expect(new SingerStateKeeper(state, bindings, log).input()).toBe(value);
    }
    const keeper = new SingerStateKeeper({ singer: { value: "42" } }, bindings, log);
    apply(keeper, '{"bookmarks": {"orders": {"ts": 1}}}');
    expect(keeper.commit().updated).toEqual({ bindingStateV1: { "orders.v2": { bookmark: '{"ts": 1}' } }, singer: { value: null } });
  });

  it("leaves a re-keyed binding (a backfill) without its old bookmark", () => {
    const state = { bindingStateV1: { orders: { bookmark: '{"ts": 1}' } } };
    expect(new SingerStateKeeper(state, bindings, log).input()).toBeUndefined();
  });
});

describe("parseJsonOutput", () => {
  it("reads a catalog printed over many lines, after log lines a tap printed on stdout", () => {
    expect(parseJsonOutput('{\n  "streams": []\n}\n')).toEqual({ value: { streams: [] }, before: [] });
    expect(parseJsonOutput('INFO starting\n{"not": "it"} trailing\n{\n  "streams": [1]\n}')).toEqual({ value: { streams: [1] }, before: ["INFO starting", '{"not": "it"} trailing'] });
    expect(parseJsonOutput("no json here").value).toBeUndefined();
  });
});

describe("tapFailure", () => {
  it("finds what the tap said of its failure: an exception, a CRITICAL line, a JSON error line", () => {
    expect(tapFailure(["Traceback (most recent call last):", '  File "tap.py", line 3', "requests.exceptions.HTTPError: 401 Unauthorized"])).toBe("requests.exceptions.HTTPError: 401 Unauthorized");
    expect(tapFailure(["INFO fetching", "CRITICAL Invalid API key", "Traceback (most recent call last):", '  File "x.py", line 1'])).toBe("Invalid API key");
    expect(tapFailure(["2024-01-01 00:00:00,000 | ERROR    | tap-x | token expired"])).toBe("token expired");
    expect(tapFailure(['{"level": "error", "message": "boom", "ts": 1}'])).toBe("boom");
    expect(tapFailure(["INFO all fine", "just text"])).toBeUndefined();
  });
});
