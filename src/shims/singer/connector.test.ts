import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { INTERNAL_SPEC, openRequest, reduceSession, startEncryptionServer, tmpDir, unary } from "../../../test/helpers/airbyte.js";
import { serveInProcess } from "../../../test/helpers/inProcess.js";
import { catalogEntry, reduceCollection, singerBinding } from "../../../test/helpers/singer.js";
import { FEED_MODES, feedStdout, type FeedMode } from "../../../test/helpers/stdoutFeed.js";
import { createSingerConnector, type SingerConnectorOptions } from "./connector.js";
import { DEFAULT_MAX_TRACKED_KEYS } from "./session.js";
import type { CatalogArgument, SingerTap } from "./tap.js";
import type { SingerAbout, SingerCatalog } from "./types.js";

type Json = Record<string, unknown>;
const work = tmpDir("singer-connector");

interface Script {
  lines: (string | object)[];
  outcome?: "completed" | "stopped" | Error;
  rewrite?: Json;
}

/**
 * A Singer tap in memory: discovery answers `catalog`, each sync plays the next script of stdout
 * lines, fed as a child's reader feeds them (`feed`, default batches rewritten in place; see
 * feedStdout).
 */
function fakeTap(options: { catalog?: SingerCatalog; about?: SingerAbout; help?: string; syncs?: Script[]; feed?: FeedMode }) {
  const syncs = [...(options.syncs ?? [])];
  const given: { config: Json; catalog: { argument: CatalogArgument; value: SingerCatalog }; state: string | undefined }[] = [];
  let discovers = 0;
  const tap: SingerTap = {
    label: "fake",
    about: async () => options.about,
    help: async () => options.help,
    discover: async () => {
      discovers++;
      return options.catalog ?? { streams: [] };
    },
    async sync(config, catalog, state, ctx, sink) {
      given.push({ config, catalog, state });
      const script = syncs.shift();
      if (!script) throw new Error("no more syncs scripted");
      await feedStdout(sink, script.lines, options.feed);
      if (script.rewrite) await ctx.onConfig(script.rewrite);
      if (script.outcome instanceof Error) throw script.outcome;
      return script.outcome ?? "completed";
    },
  };
  return { tap, given, discovers: () => discovers };
}

const schema = (stream: string, keys: string[] = ["id"]) => ({ type: "SCHEMA", stream, schema: { type: "object", properties: { id: { type: ["string", "integer"] } } }, key_properties: keys });
const rec = (stream: string, record: object, version?: number) => ({ type: "RECORD", stream, record, ...(version === undefined ? {} : { version }) });
const activate = (stream: string, version: number) => ({ type: "ACTIVATE_VERSION", stream, version });
const state = (value: unknown) => ({ type: "STATE", value });

async function session(tap: SingerTap, bindings: ReturnType<typeof singerBinding>[], initial: Json = {}, options: SingerConnectorOptions = {}, config: Json = {}) {
  const run = serveInProcess(createSingerConnector(tap, options));
  run.send(INTERNAL_SPEC);
  run.send(openRequest(config, bindings, initial));
  const code = await run.exitCode;
  run.end();
  const reduced = code === 0 ? reduceSession(run.stdout.json, initial) : undefined;
  return { code, logs: run.logs(), last: run.logs().at(-1), messages: run.stdout.json, lines: run.stdout.lines, stderr: run.stderr.lines, reduced, docs: reduced?.docs.map((d) => d.doc) ?? [] };
}

const ops = (docs: Json[]) => docs.map((d) => `${(d._meta as Json).op}:${String(d.id ?? (d._meta as Json).row_id)}`);

describe("log-based deletions: records with a non-null _sdc_deleted_at", () => {
  const softSchema = (stream: string) => ({ type: "SCHEMA", stream, schema: { type: "object", properties: { id: { type: "integer" }, name: { type: ["null", "string"] }, _sdc_deleted_at: { type: ["null", "string"] } } }, key_properties: ["id"] });

  it("become deletions (_meta.op d) of a keyed stream that declares the property, so the row goes instead of being replaced by its key alone", async () => {
    const { tap } = fakeTap({
      catalog: { streams: [catalogEntry("users")] },
      syncs: [
        {
          lines: [
            softSchema("users"),
            rec("users", { id: 1, name: "Ada", _sdc_deleted_at: null }),
            rec("users", { id: 2, name: "Bo" }),
            rec("users", { id: 1, _sdc_deleted_at: "2026-11-23T15:00:00+00:00" }),
            '{"type":"RECORD","stream":"users","record":{"id":2,"_sdc_deleted_at":  null}}',
            state({ bookmarks: { users: { lsn: 7 } } }),
          ],
        },
      ],
    });
    const run = await session(tap, [singerBinding("users", { replication_method: "LOG_BASED" })]);
    expect(run.code).toBe(0);
    expect(ops(run.docs)).toEqual(["u:1", "u:2", "d:1", "u:2"]);
    expect(run.docs[2]).toEqual({ id: 1, _sdc_deleted_at: "2026-11-23T15:00:00+00:00", _meta: { op: "d", row_id: 2 } });
    expect([...reduceCollection(run.docs, ["/id"]).keys()]).toEqual(["[2]"]);
  });

  it("are recognized from the collection's schema when the tap sends no SCHEMA first", async () => {
    const { tap } = fakeTap({ catalog: { streams: [catalogEntry("users")] }, syncs: [{ lines: [rec("users", { id: 3, _sdc_deleted_at: "2026-01-01T00:00:00Z" })] }] });
    const writeSchema = { type: "object", properties: { id: { type: "integer" }, _sdc_deleted_at: { type: ["null", "string"] } } };
    const run = await session(tap, [singerBinding("users", { replication_method: "LOG_BASED", writeSchema })]);
    expect(ops(run.docs)).toEqual(["d:3"]);
  });

  it("stay updates in a stream that does not declare _sdc_deleted_at, and in a row-id stream (a row number is not the deleted row)", async () => {
    const { tap } = fakeTap({
      catalog: { streams: [catalogEntry("plain"), catalogEntry("rows", [])] },
      syncs: [{ lines: [schema("plain"), rec("plain", { id: 1, _sdc_deleted_at: "2026-01-01T00:00:00Z" }), softSchema("rows"), rec("rows", { id: 9, _sdc_deleted_at: "2026-01-01T00:00:00Z" })] }],
    });
    const run = await session(tap, [singerBinding("plain", { replication_method: "LOG_BASED" }), singerBinding("rows", { replication_method: "FULL_TABLE", key: ["/_meta/row_id"] })]);
    expect(run.code).toBe(0);
    expect(run.docs.map((d) => (d._meta as Json).op)).toEqual(["u", "u"]);
  });
});

describe("ACTIVATE_VERSION: a keyed full-table stream", () => {
  const catalog = { streams: [catalogEntry("items")] };
  const binding = () => singerBinding("items", { replication_method: "FULL_TABLE" });

  it("deletes the keys of earlier versions the new one does not have, and never deletes a key the new version re-sends", async () => {
    const { tap } = fakeTap({
      catalog,
      syncs: [
        { lines: [schema("items"), activate("items", 1), rec("items", { id: "A" }, 1), rec("items", { id: "B" }, 1), rec("items", { id: "C" }, 1), state({}), activate("items", 1)] },
        { lines: [schema("items"), activate("items", 2), rec("items", { id: "A" }, 2), rec("items", { id: "C" }, 2), state({}), activate("items", 2)] },
      ],
    });
    const first = await session(tap, [binding()]);
    expect(first.code).toBe(0);
    expect(ops(first.docs)).toEqual(["u:A", "u:B", "u:C"]);
    expect((first.reduced!.state.bindingStateV1 as Json).items).toEqual({ rowId: 3, versioned: true, keys: { '"A"': 1, '"B"': 1, '"C"': 1 } });
    const second = await session(tap, [binding()], first.reduced!.state);
    expect(ops(second.docs)).toEqual(["u:A", "u:C", "d:B"]);
    expect(second.docs[2]).toEqual({ id: "B", _meta: { op: "d", row_id: 5 } });
    expect([...reduceCollection([...first.docs, ...second.docs], ["/id"]).keys()]).toEqual(['["A"]', '["C"]']);
    expect((second.reduced!.state.bindingStateV1 as Json).items).toMatchObject({ keys: { '"A"': 2, '"C"': 2 } });
    expect(second.logs.some((l) => l.message === "stream items: version 2 is active: deleting 1 row(s) of earlier versions")).toBe(true);
  });

  it("makes the deletions of an activation sent only before the records (the Meltano SDK's way) once the tap completes", async () => {
    const { tap } = fakeTap({
      catalog,
      syncs: [
        { lines: [activate("items", 10), rec("items", { id: 1 }, 10), rec("items", { id: 2 }, 10), rec("items", { id: 3 }, 10), state({ bookmarks: { items: {} } })] },
        { lines: [activate("items", 20), rec("items", { id: 1 }, 20), rec("items", { id: 3 }, 20), state({ bookmarks: { items: {} } })] },
      ],
    });
    const first = await session(tap, [binding()]);
    const second = await session(tap, [binding()], first.reduced!.state);
    expect(ops(second.docs)).toEqual(["u:1", "u:3", "d:2"]);
    // The deletion goes with the final checkpoint, after the tap's last STATE.
    expect(second.reduced!.checkpoints).toBe(2);
  });

  it("deletes rows of an older version sent after the activation (target-postgres' hard-delete case)", async () => {
    const { tap } = fakeTap({ catalog, syncs: [{ lines: [activate("items", 5), rec("items", { id: "AF" }, 5), rec("items", { id: "XX" }, 4), activate("items", 5)] }] });
    const run = await session(tap, [binding()]);
    expect(ops(run.docs)).toEqual(["u:AF", "u:XX", "d:XX"]);
  });

  it("gives records without a version the version activated after them", async () => {
    const { tap } = fakeTap({
      catalog,
      syncs: [{ lines: [activate("items", 1), rec("items", { id: 1 }), rec("items", { id: 2 })] }, { lines: [rec("items", { id: 2 }), activate("items", 2)] }],
    });
    const first = await session(tap, [binding()]);
    expect(ops(first.docs)).toEqual(["u:1", "u:2"]);
    expect((first.reduced!.state.bindingStateV1 as Json).items).toMatchObject({ keys: { "1": 1, "2": 1 } });
    const second = await session(tap, [binding()], first.reduced!.state);
    expect(ops(second.docs)).toEqual(["u:2", "d:1"]);
  });

  it("tracks a stream's keys from its first versioned message, and says so when rows came before", async () => {
    const { tap } = fakeTap({
      catalog,
      syncs: [{ lines: [rec("items", { id: 1 }), rec("items", { id: 2 })] }, { lines: [rec("items", { id: 2 }, 5), activate("items", 5)] }, { lines: [rec("items", { id: 3 }, 6), activate("items", 6)] }],
    });
    const first = await session(tap, [binding()]);
    expect((first.reduced!.state.bindingStateV1 as Json).items).toEqual({ rowId: 2 }); // never versioned: nothing tracked
    const second = await session(tap, [binding()], first.reduced!.state);
    expect(second.logs.some((l) => l.level === "warn" && l.message === "stream items is versioned from now on: its rows are tracked, so later versions delete the rows they no longer have; rows captured before (2 document(s)) are not tracked, and stay")).toBe(true);
    expect(ops(second.docs)).toEqual(["u:2"]); // 1 was never tracked
    const third = await session(tap, [binding()], second.reduced!.state);
    expect(ops(third.docs)).toEqual(["u:3", "d:2"]);
  });

  it("loses nothing when the tap dies before activating: the deletions come with the next complete version", async () => {
    const lines = (v: number, ids: number[]) => [activate("items", v), ...ids.map((id) => rec("items", { id }, v))];
    const { tap } = fakeTap({
      catalog,
      syncs: [
        { lines: [...lines(1, [1, 2, 3]), state({})] },
        { lines: [...lines(2, [1]), state({}), rec("items", { id: 3 }, 2)], outcome: new Error("tap died") },
        { lines: [...lines(3, [3]), state({})] },
      ],
    });
    const first = await session(tap, [binding()]);
    const crashed = await session(tap, [binding()], first.reduced!.state);
    expect(crashed.code).toBe(1);
    const committed = reduceSession(crashed.messages, first.reduced!.state);
    expect(ops(committed.docs.map((d) => d.doc))).toEqual(["u:1"]); // nothing after its last STATE, no deletion
    const third = await session(tap, [binding()], committed.state);
    expect(ops(third.docs)).toEqual(["u:3", "d:1", "d:2"]);
  });

  it("builds deletions of composite and nested keys with their values' exact text", async () => {
    const cat = { streams: [catalogEntry("c", ["a", "b"])] };
    const { tap } = fakeTap({
      catalog: cat,
      syncs: [
        { lines: ['{"type":"RECORD","stream":"c","record":{"a":12345678901234567890,"b":"x\\u0079","n":{"k":1}},"version":1}', '{"type":"RECORD","stream":"c","record":{"a":2,"b":"z","n":{"k":2}},"version":1}'] },
        { lines: [activate("c", 2)] },
      ],
    });
    const first = await session(tap, [singerBinding("c", { key: ["/a", "/b"], replication_method: "FULL_TABLE" })]);
    const second = await session(tap, [singerBinding("c", { key: ["/a", "/b"], replication_method: "FULL_TABLE" })], first.reduced!.state);
    expect(second.lines.filter((l) => l.startsWith('{"captured"'))).toEqual([
      '{"captured":{"doc":{"a":12345678901234567890,"b":"xy","_meta":{"op":"d","row_id":2}}}}',
      '{"captured":{"doc":{"a":2,"b":"z","_meta":{"op":"d","row_id":3}}}}',
    ]);
    const { tap: nested } = fakeTap({ catalog: cat, syncs: [{ lines: ['{"type":"RECORD","stream":"c","record":{"n":{"k":12345678901234567890}},"version":1}'] }, { lines: [activate("c", 2)] }] });
    const n1 = await session(nested, [singerBinding("c", { key: ["/n/k"], replication_method: "FULL_TABLE" })]);
    const n2 = await session(nested, [singerBinding("c", { key: ["/n/k"], replication_method: "FULL_TABLE" })], n1.reduced!.state);
    expect(n2.lines.filter((l) => l.startsWith('{"captured"'))).toEqual(['{"captured":{"doc":{"n":{"k":12345678901234567890},"_meta":{"op":"d","row_id":1}}}}']);
  });

  it("warns once, naming the stream and the remedy, when the tap sends records but never a version", async () => {
    const warning =
      "stream items is replicated in full (FULL_TABLE) but the tap never versions it (no ACTIVATE_VERSION, no record version): rows deleted at the source stay in the collection. " +
      "Use a tap that sends ACTIVATE_VERSION for full-table streams, or capture the stream into a collection keyed by /_meta/row_id, which each sync replaces whole";
    const warnings = (logs: { level: string; message: string }[]) => logs.filter((l) => l.level === "warn").map((l) => l.message);
    const unversioned = [schema("items"), rec("items", { id: 1 }), state({}), rec("items", { id: 2 }), rec("items", { id: 3 })];
    const { tap } = fakeTap({ catalog, syncs: [{ lines: unversioned }, { lines: [schema("items"), rec("items", { id: 1 }, 1), activate("items", 1)] }, { lines: [schema("items")] }] });
    const first = await session(tap, [binding()]);
    expect(warnings(first.logs)).toEqual([warning]);
    // Versioned, and a sync without records: nothing to say.
    const second = await session(tap, [binding()], first.reduced!.state);
    const third = await session(tap, [binding()], second.reduced!.state);
    expect(warnings([...second.logs, ...third.logs]).filter((m) => m === warning)).toEqual([]);
    // Streams the tap replicates incrementally, or by a method it chooses, are not expected to be versioned.
    for (const b of [singerBinding("items", { replication_method: "INCREMENTAL", replication_key: "id" }), singerBinding("items")]) {
      const { tap: other } = fakeTap({ catalog, syncs: [{ lines: unversioned }] });
      expect(warnings((await session(other, [b])).logs)).toEqual([]);
    }
  });

  it("stops tracking past --max-tracked-keys, and says so whenever an activation cannot delete", async () => {
    const { tap } = fakeTap({
      catalog,
      syncs: [{ lines: [activate("items", 1), rec("items", { id: 1 }, 1), rec("items", { id: 2 }, 1), rec("items", { id: 3 }, 1)] }, { lines: [activate("items", 2), rec("items", { id: 1 }, 2)] }],
    });
    const first = await session(tap, [binding()], {}, { maxTrackedKeys: 2 });
    expect(first.logs.some((l) => l.level === "warn" && /has more than 2 keys: they are no longer tracked/.test(l.message))).toBe(true);
    expect((first.reduced!.state.bindingStateV1 as Json).items).toEqual({ rowId: 3, keysDropped: true });
    const second = await session(tap, [binding()], first.reduced!.state, { maxTrackedKeys: 2 });
    expect(ops(second.docs)).toEqual(["u:1"]);
    expect(second.logs.some((l) => l.level === "warn" && /ACTIVATE_VERSION 2 cannot delete stale rows/.test(l.message))).toBe(true);
  });
});

describe("ACTIVATE_VERSION: the state of tracked keys", () => {
  /** The bytes of Flow state a tracked key costs, for `count` keys made by `key`, as a tap writing STATE only at its end leaves it. */
  async function stateBytesPerKey(key: (i: number) => Json, keyPointers: string[]) {
    const count = 2000;
    const version = 1732358400000; // milliseconds, as taps make versions
    const records = Array.from({ length: count }, (_, i) => rec("items", key(i), version));
    const { tap } = fakeTap({ catalog: { streams: [catalogEntry("items", keyPointers.map((p) => p.slice(1)))] }, syncs: [{ lines: [activate("items", version), ...records] }] });
    const { messages } = await session(tap, [singerBinding("items", { key: keyPointers, replication_method: "FULL_TABLE" })]);
    const checkpoints = messages.filter((m) => "checkpoint" in m);
    expect(checkpoints).toHaveLength(1); // every key in one message
    const keys = ((((checkpoints[0]!.checkpoint as Json).state as Json).updated as Json).bindingStateV1 as Json).items as Json;
    return JSON.stringify((keys as { keys: Json }).keys).length / count;
  }
  const uuid = (i: number) => `6f1c${String(i).padStart(4, "0")}-0b8e-4c5e-9d7a-3f2e1a0b9c8d`;

  it("costs a key's JSON and ~15 bytes a key, as the --max-tracked-keys documentation says", async () => {
    expect(await stateBytesPerKey((i) => ({ id: 1_000_000 + i }), ["/id"])).toBeCloseTo(24, 0);
    expect(await stateBytesPerKey((i) => ({ id: uuid(i) }), ["/id"])).toBeCloseTo(57, 0);
    expect(await stateBytesPerKey((i) => ({ account: `acct-${i % 1000}`, id: uuid(i) }), ["/account", "/id"])).toBeCloseTo(72, -1);
  });

  it("by default keeps a checkpoint of every tracked key of two strings well under the 64 MB Flow accepts", async () => {
    const perKey = await stateBytesPerKey((i) => ({ account: `acct-${i % 1000}`, id: uuid(i) }), ["/account", "/id"]);
    expect(DEFAULT_MAX_TRACKED_KEYS * perKey).toBeLessThan(0.6 * 64 * 1024 * 1024);
  });
});

describe("ACTIVATE_VERSION: other streams", () => {
  it("a stream without a key numbers each refresh's rows from 0 and deletes the rows beyond its count", async () => {
    const catalog = { streams: [catalogEntry("logs", [])] };
    const { tap } = fakeTap({
      catalog,
      syncs: [
        { lines: [schema("logs", []), rec("logs", { m: "a" }), rec("logs", { m: "b" }), rec("logs", { m: "c" }), state({})] },
        { lines: [schema("logs", []), rec("logs", { m: "d" }), state({})] },
        { lines: [activate("logs", 7), rec("logs", { m: "e" }, 7), rec("logs", { m: "f" }, 7), state({})] },
        { lines: [rec("logs", { m: "g" }, 7), activate("logs", 7)] }, // the same version, resumed
      ],
    });
    const b = () => singerBinding("logs", { key: ["/_meta/row_id"] });
    const s1 = await session(tap, [b()]);
    expect(ops(s1.docs)).toEqual(["u:0", "u:1", "u:2"]);
    const s2 = await session(tap, [b()], s1.reduced!.state);
    expect(ops(s2.docs)).toEqual(["u:0", "d:1", "d:2"]);
    const s3 = await session(tap, [b()], s2.reduced!.state);
    expect(ops(s3.docs)).toEqual(["u:0", "u:1"]);
    const s4 = await session(tap, [b()], s3.reduced!.state);
    expect(ops(s4.docs)).toEqual(["u:2"]);
    const table = reduceCollection([...s1.docs, ...s2.docs, ...s3.docs, ...s4.docs], ["/_meta/row_id"]);
    expect([...table.values()].map((d) => d.m)).toEqual(["e", "f", "g"]);
  });

  it("an incremental stream keeps its rows, and says why", async () => {
    const { tap } = fakeTap({ catalog: { streams: [catalogEntry("events")] }, syncs: [{ lines: [activate("events", 1), rec("events", { id: 1 }, 1), activate("events", 1)] }, { lines: [activate("events", 2), rec("events", { id: 2 }, 2)] }] });
    const b = () => singerBinding("events", { replication_method: "INCREMENTAL", replication_key: "id" });
    const s1 = await session(tap, [b()]);
    const s2 = await session(tap, [b()], s1.reduced!.state);
    expect(ops([...s1.docs, ...s2.docs])).toEqual(["u:1", "u:2"]);
    expect(s2.logs.some((l) => l.message === "stream events is replicated incrementally (INCREMENTAL): its rows are only added and updated, so ACTIVATE_VERSION 2 deletes none")).toBe(true);
    expect((s2.reduced!.state.bindingStateV1 as Json).events).toEqual({ rowId: 2 });
  });
});

describe("records, states and schemas", () => {
  const catalog = { streams: [catalogEntry("users"), { ...catalogEntry("db-public-orders"), stream: "orders", metadata: [{ breadcrumb: [], metadata: { "schema-name": "public" } }] }] };

  it("captures records by the stream's id, name or <schema>-<stream>, merges a record's own _meta, and skips unbound streams, counting them", async () => {
    const { tap } = fakeTap({
      catalog,
      syncs: [
        {
          lines: [
            '{"type":"record","stream":"users","record":{"id":1,"_meta":{"source":"x","row_id":"theirs"},"big":12345678901234567890}}',
            rec("orders", { id: 2 }),
            rec("public-orders", { id: 3 }),
            rec("db-public-orders", { id: 4 }),
            rec("nobody", { id: 5 }),
            rec("nobody", { id: 6 }),
            { type: "METRIC", value: 1 },
            "plain text on stdout",
            '{"level": "warning", "message": "a JSON log line"}',
          ],
        },
      ],
    });
    const run = await session(tap, [singerBinding("users"), singerBinding("db-public-orders")]);
    expect(run.code, JSON.stringify(run.last)).toBe(0);
    expect(run.reduced!.docs.map((d) => [d.binding, d.doc.id])).toEqual([
      [0, 1],
      [1, 2],
      [1, 3],
      [1, 4],
    ]);
    const line = run.messages.find((m) => "captured" in m && ((m.captured as Json).doc as Json).id === 1);
    expect((line!.captured as Json).doc).toMatchObject({ _meta: { source: "x", op: "u", row_id: 0 } });
    expect(run.logs.map((l) => l.message)).toEqual(
      expect.arrayContaining([
        'skipped 2 record(s) of stream "nobody", which no binding captures',
        "ignoring the tap's METRIC messages (not a Singer message the shim knows)",
        "plain text on stdout",
        "a JSON log line",
      ]),
    );
  });

  describe("a stdout line that does not parse", () => {
    const before = [rec("users", { id: 1 }), state({ bookmarks: { users: { c: 1 } } }), rec("users", { id: 2 })];
    const after = [state({ bookmarks: { users: { c: 3 } } }), rec("users", { id: 4 })];
    const unreadable: [string, string, RegExp][] = [
      ["Python's NaN", '{"type": "RECORD", "stream": "users", "record": {"id": 3, "score": NaN}}', /NaN|Unexpected token/],
      ["a line cut short", '{"type": "RECORD", "stream": "users", "record": {"id": 3, "name": "Ad', /Unterminated string|Unexpected end/],
      ["a stray byte", '{"type":"RECORD","stream":"users","record":{"id":3}\u0001}', /Expected ',' or '}'/],
      ["another write inside it", 'Progress: 50%{"type":"RECORD","stream":"users","record":{"id":3}}', /Unexpected token/],
      ["a STATE in lower case", '{"type":"state","value":{"bookmarks":{"users":{"c":Infinity}}}}', /Unexpected token/],
    ];
    for (const [what, line, problem] of unreadable) for (const feed of FEED_MODES) {
      it(`fails the sync at that line when it carries a Singer message type (${what}), before the next STATE is committed (${feed})`, async () => {
        const { tap } = fakeTap({ catalog, syncs: [{ lines: [...before, line, ...after] }], feed });
        const run = await session(tap, [singerBinding("users")]);
        expect(run.code).toBe(1);
        expect(run.last).toMatchObject({ level: "error", fields: { code: "SOURCE_OUTPUT_INVALID", line: 4 } });
        expect(run.last!.message).toMatch(/^the tap wrote an unreadable Singer (RECORD|STATE) message \(stdout line 4, not valid JSON: /);
        expect(run.last!.message).toMatch(problem);
        const committed = reduceSession(run.messages);
        expect(committed.docs.map((d) => d.doc.id)).toEqual([1]);
        expect(JSON.stringify(committed.state)).toContain('{\\"c\\":1}');
      });
    }

    it("is the tap's own output, logged, when it carries no message type (a library's print)", async () => {
      const prints = ["Fetching page 2 of users (RECORD count so far: 1)", "{'type': 'RECORD', 'note': 'a Python dict, printed'}", '{"level": "info", "msg": "connected"', "\u00ff\u00fe garbage", '["type", "RECORD"', '  "type": "RECORD", (a message pretty-printed over lines)'];
      const { tap } = fakeTap({ catalog, syncs: [{ lines: [...before, ...prints, ...after] }] });
      const run = await session(tap, [singerBinding("users")]);
      expect(run.code, JSON.stringify(run.last)).toBe(0);
      expect(run.docs.map((d) => d.id)).toEqual([1, 2, 4]);
      for (const print of prints) expect(run.logs).toContainEqual(expect.objectContaining({ level: "info", message: print, fields: expect.objectContaining({ stream: "stdout" }) }));
    });
  });

  it("hands Flow the encryption service's answer to a rewritten config byte for byte, unredacted (user: postgres, password: postgres)", async () => {
    const answer = '{"password":"ENC[AES256_GCM,data:cG9zdGdyZXM=,type:str]","sops":{"mac":"ENC[AES256_GCM,data:postgres]"},"token_expiry":1.5e9,"user":"postgres"}';
    const server = await startEncryptionServer(answer);
    try {
      const configSchema = { type: "object", properties: { user: { type: "string" }, password: { type: "string", secret: true }, token_expiry: { type: "number" } } };
      const { tap } = fakeTap({ catalog, syncs: [{ lines: [rec("users", { id: 1 })], rewrite: { user: "postgres", password: "postgres", token_expiry: 1.5e9 } }] });
      const run = await session(tap, [singerBinding("users")], {}, { configSchema, encryptionUrl: server.url }, { user: "postgres", password: "postgres" });
      expect(run.code, JSON.stringify(run.last)).toBe(0);
      const event = run.stderr.find((l) => l.includes('"eventType":"configUpdate"'))!;
      expect(event).toContain(`"config":${answer}}`);
    } finally {
      server.close();
    }
  });

  it("refuses a RECORD whose record is not an object", async () => {
    const { tap } = fakeTap({ catalog, syncs: [{ lines: ['{"type":"RECORD","stream":"users","record":[1,2]}'] }] });
    const run = await session(tap, [singerBinding("users")]);
    expect(run.code).toBe(1);
    expect(run.last?.message).toMatch(/^the tap wrote a RECORD of stream "users" whose record is not a JSON object \(stdout line 1\)/);
  });

  it("writes each distinct SCHEMA of a bound stream as a closed sourcedSchema, when asked", async () => {
    const s1 = { type: "SCHEMA", stream: "users", key_properties: ["id"], schema: { type: "object", properties: { id: { type: "integer", exclusiveMinimum: true, minimum: 0 } } } };
    const s2 = { ...s1, schema: { type: "object", properties: { id: { type: "integer" }, name: { type: "string" } } } };
    const { tap } = fakeTap({ catalog, syncs: [{ lines: [s1, s1, rec("users", { id: 1 }), s2, s2, { ...s2, stream: "nobody" }] }] });
    const run = await session(tap, [singerBinding("users")], {}, { sourcedSchemas: true });
    const sourced = run.messages.filter((m) => "sourcedSchema" in m).map((m) => (m.sourcedSchema as Json).documentSchema as Json);
    expect(sourced).toHaveLength(2);
    expect(sourced[0]).toMatchObject({ additionalProperties: false, required: ["id"], properties: { id: { type: "integer", exclusiveMinimum: 0 }, _meta: { required: ["row_id"] } } });
    expect(sourced[1]!.properties).toHaveProperty("name");
  });

  it("warns when the tap keys a stream differently from its collection", async () => {
    const { tap } = fakeTap({ catalog, syncs: [{ lines: [schema("users", ["uuid"]), schema("users", ["uuid"])] }] });
    const run = await session(tap, [singerBinding("users")]);
    expect(run.logs.filter((l) => l.level === "warn" && l.message === 'stream users: the tap keys it by ["uuid"], the collection by ["id"]')).toHaveLength(1);
  });

  it("passes the config and the kept state, and selects exactly the bound streams", async () => {
    const { tap, given } = fakeTap({ catalog, syncs: [{ lines: [state({ bookmarks: { users: { n: 1 }, "db-public-orders": { n: 2 } }, currently_syncing: null })] }, { lines: [] }] });
    const first = await session(tap, [singerBinding("users")], {}, {}, { token: "t" });
    await session(tap, [singerBinding("users")], first.reduced!.state, {}, { token: "t" });
    expect(given[0]!.config).toEqual({ token: "t" });
    expect(given[0]!.state).toBeUndefined();
    expect(given[1]!.state).toBe('{"currently_syncing":null,"bookmarks":{"users":{"n":1}}}');
    expect(given[1]!.catalog.argument).toBe("catalog");
    expect(given[1]!.catalog.value.streams.map((s) => s.metadata![0]!.metadata.selected)).toEqual([true, false]);
  });
});

describe("BATCH messages", () => {
  const catalog = { streams: [catalogEntry("users")] };
  const dir = path.join(work, "batches");
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, "one.jsonl"), '{"id": 1, "big": 12345678901234567890}\n\n{"id": 2, "_meta": {"x": 1}}\n');
  writeFileSync(path.join(dir, "two.jsonl.gz"), gzipSync('{"id": 3}\n{"id": 4}'));
  const batch = (manifest: string[], encoding: Json = { format: "jsonl", compression: "gzip" }) => ({ type: "BATCH", stream: "users", encoding, manifest });

  it("captures the records of its JSONL files, gzip-compressed or not, by file:// URL or relative path", async () => {
    const { tap } = fakeTap({ catalog, syncs: [{ lines: [batch([`file://${dir}/one.jsonl`, "file://batches/two.jsonl.gz"]), state({})] }] });
    const run = await session(tap, [singerBinding("users")], {}, { cwd: work });
    expect(run.code, JSON.stringify(run.last)).toBe(0);
    expect(run.docs.map((d) => d.id)).toEqual([1, 2, 3, 4]);
    expect(run.docs[1]!._meta).toEqual({ x: 1, op: "u", row_id: 1 });
  });

  it("keeps big integers of batch records exact on the wire", async () => {
    const { tap } = fakeTap({ catalog, syncs: [{ lines: [batch([path.join(dir, "one.jsonl")])] }] });
    const run = serveInProcess(createSingerConnector(tap));
    run.send(INTERNAL_SPEC);
    run.send(openRequest({}, [singerBinding("users")]));
    expect(await run.exitCode).toBe(0);
    expect(run.stdout.lines).toContain('{"captured":{"doc":{"id": 1, "big": 12345678901234567890,"_meta":{"op":"u","row_id":0}}}}');
  });

  it("refuses formats other than JSONL, remote files and lines that are not objects, naming them", async () => {
    writeFileSync(path.join(dir, "bad.jsonl"), '{"id": 1}\n[1, 2]\n');
    for (const [line, message] of [
      [batch(["file:///x.parquet"], { format: "parquet" }), 'the tap wrote a BATCH in format "parquet": only jsonl batch files can be read; set the tap\'s batch_config encoding format to jsonl'],
      [batch(["s3://bucket/users-1.jsonl.gz"]), "the tap's BATCH names s3://bucket/users-1.jsonl.gz: only local files (file://) can be read; configure the tap's batch_config storage root as a local directory"],
      [batch([path.join(dir, "bad.jsonl")]), `line 2 of the tap's BATCH file ${path.join(dir, "bad.jsonl")} is not a JSON object: [1, 2]`],
      [batch([path.join(dir, "missing.jsonl")]), `cannot read the tap's BATCH file ${path.join(dir, "missing.jsonl")}: ENOENT: no such file or directory, open '${path.join(dir, "missing.jsonl")}'`],
    ] as const) {
      const { tap } = fakeTap({ catalog, syncs: [{ lines: [line] }] });
      const run = await session(tap, [singerBinding("users")]);
      expect(run.code).toBe(1);
      expect(run.last?.message).toBe(message);
    }
  });
});

describe("spec, discover, validate", () => {
  const about: SingerAbout = {
    name: "tap-x",
    capabilities: ["discover", "properties", "state"],
    settings: { properties: { api_key: { type: "string", secret: true }, start_date: { type: "string" } }, required: ["api_key"] },
  };

  it("takes the config schema from --about, and refuses a config that does not fit before the tap sees it", async () => {
    const { tap, discovers } = fakeTap({ about, catalog: { streams: [catalogEntry("users")] } });
    const spec = await unary(createSingerConnector(tap, { documentationUrl: "https://example.com/tap-x" }), INTERNAL_SPEC);
    expect(spec.out[0]).toEqual({
      spec: expect.objectContaining({ configSchema: { type: "object", ...about.settings }, documentationUrl: "https://example.com/tap-x", resourcePathPointers: ["/stream"] }),
    });
    const bad = await unary(createSingerConnector(tap), { discover: { connectorType: "LOCAL", config: { start_date: 1 } } });
    expect(bad.code).toBe(1);
    expect(bad.last?.message).toBe("endpoint config: 2 problems:\n - api_key: is required\n - start_date: must be string");
    expect(discovers()).toBe(0);
    // The option wins over --about.
    const given = await unary(createSingerConnector(tap, { configSchema: { type: "object", required: ["x"] } }), INTERNAL_SPEC);
    expect((given.out[0] as { spec: Json }).spec.configSchema).toEqual({ type: "object", required: ["x"] });
  });

  it("hands the catalog as --about's capabilities say, else as --help says", async () => {
    const syncs = () => [{ lines: [] }];
    const cases: [Partial<Parameters<typeof fakeTap>[0]>, CatalogArgument][] = [
      [{ about }, "properties"],
      [{ about: { capabilities: ["catalog", "properties"] } }, "catalog"],
      [{ help: "usage: tap [-h] -c CONFIG [-s STATE] [-p PROPERTIES]\n  -p PROPERTIES, --properties PROPERTIES" }, "properties"],
      [{ help: "usage: tap [-h] -c CONFIG [-s STATE]\n  -c CONFIG, --config CONFIG" }, "none"],
      [{ help: "usage: tap [--catalog CATALOG] --config CONFIG" }, "catalog"],
      // singer-python's help for --properties mentions --catalog in prose: not a declaration.
      [{ help: "usage: tap [-h] -c CONFIG [-s STATE] [-p PROPERTIES] [-d]\n  -p PROPERTIES, --properties PROPERTIES\n                        Property selections: DEPRECATED, Please use --catalog instead" }, "properties"],
      // click (the Meltano SDK).
      [{ help: "Usage: tap-x [OPTIONS]\n\nOptions:\n  --version  Display the package version.\n  --config TEXT  Configuration file location or 'ENV'.\n  --catalog PATH  Use a Singer catalog file with the tap." }, "catalog"],
      [{}, "catalog"],
    ];
    for (const [options, want] of cases) {
      const { tap, given } = fakeTap({ catalog: { streams: [catalogEntry("users")] }, syncs: syncs(), ...options });
      const run = await session(tap, [singerBinding("users", { key: ["/id"] })], {}, { configSchema: { type: "object" } });
      expect(run.code, JSON.stringify(run.last)).toBe(0);
      expect(given[0]!.catalog.argument, JSON.stringify(options)).toBe(want);
      expect(given[0]!.catalog.value.streams[0]!.schema.selected).toBe(want === "properties" ? true : undefined);
    }
  });

  it("uses a given catalog instead of the tap's discovery", async () => {
    const { tap, discovers } = fakeTap({ syncs: [{ lines: [] }] });
    const run = await session(tap, [singerBinding("given")], {}, { catalog: { streams: [catalogEntry("given")] }, catalogArgument: "none" });
    expect(run.code).toBe(0);
    const found = await unary(createSingerConnector(tap, { catalog: { streams: [catalogEntry("given")] } }), { discover: { connectorType: "LOCAL", config: {} } });
    expect((found.out[1] as { discovered: { bindings: Json[] } }).discovered.bindings.map((b) => b.recommendedName)).toEqual(["given"]);
    expect(discovers()).toBe(0);
  });

  it("names every binding the tap cannot sync, and validates the rest", async () => {
    const catalog = {
      streams: [
        { ...catalogEntry("db-public-users", ["id"], { "forced-replication-method": "INCREMENTAL", "valid-replication-keys": ["updated_at"] }), stream: "users" },
        catalogEntry("orders"),
      ],
    };
    const { tap } = fakeTap({ catalog });
    const validate = (bindings: Json[]) => ({ validate: { name: "acmeCo/x", connectorType: "LOCAL", config: {}, bindings: bindings.map((resourceConfig) => ({ resourceConfig, collection: { name: "acmeCo/x", key: ["/id"] }, backfill: 0 })) } });
    const bad = await unary(createSingerConnector(tap), validate([{ stream: "users" }, { stream: "db-public-users", replication_method: "FULL_TABLE", replication_key: "id" }, { stream: "nope" }, { stream: "orders", extra: 1 }]));
    expect(bad.code).toBe(1);
    expect(bad.last?.message).toBe(
      [
        "bindings: 5 problems:",
        ' - bindings[0].resourceConfig.stream: the tap has no stream with tap_stream_id "users"; its stream named so has tap_stream_id "db-public-users"',
        ' - bindings[1].resourceConfig.replication_method: the tap replicates stream "db-public-users" by INCREMENTAL only',
        ' - bindings[1].resourceConfig.replication_key: "id" is not a replication key of stream "db-public-users" (it has: "updated_at")',
        ' - bindings[2].resourceConfig.stream: the tap has no stream "nope" (it has: "db-public-users", "orders")',
        " - bindings[3].resourceConfig.extra: is not a known property",
      ].join("\n"),
    );
    const good = await unary(createSingerConnector(tap), validate([{ stream: "db-public-users", replication_method: "incremental" }, { stream: "orders" }]));
    expect(good.code, JSON.stringify(good.last)).toBe(0);
    expect(good.out[1]).toEqual({ validated: { bindings: [{ resourcePath: ["db-public-users"] }, { resourcePath: ["orders"] }] } });
  });
});
