import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { LineCollector } from "../../../test/helpers/inProcess.js";
import { createLogger } from "../../runtime/index.js";
import { catalogEntries, flag, keyProperties, recordNames, replicationKey, replicationMethod, syncCatalog } from "./catalog.js";
import { modernSchema } from "./schema.js";
import type { SingerCatalogEntry } from "./types.js";

function logger() {
  const lines = new LineCollector();
  const log = createLogger({ stream: new Writable({ write: (c, _e, cb) => (lines.push(c as Buffer), cb()) }), level: "debug" });
  return { log, logs: () => lines.json as { level: string; message: string }[] };
}

const entry = (extra: Partial<SingerCatalogEntry> = {}, root: Record<string, unknown> = {}): SingerCatalogEntry => ({
  tap_stream_id: "db-public-users",
  stream: "users",
  schema: { type: "object", properties: { id: { type: "integer" }, name: { type: "string" }, secret: { type: "string" } } },
  metadata: [
    { breadcrumb: [], metadata: { "schema-name": "public", ...root } },
    { breadcrumb: ["properties", "id"], metadata: { inclusion: "automatic" } },
    { breadcrumb: ["properties", "name"], metadata: { inclusion: "available" } },
    { breadcrumb: ["properties", "secret"], metadata: { inclusion: "available", selected: "false" } },
  ],
  ...extra,
});

describe("reading catalogs", () => {
  it("takes flags as booleans or strings", () => {
    expect([true, "true", "True", " TRUE ", false, "false", "yes", 1, null].map(flag)).toEqual([true, true, true, true, false, false, undefined, undefined, undefined]);
  });

  it("finds keys, methods and replication keys where taps and people write them", () => {
    expect(keyProperties(entry({ key_properties: ["id"] }, { "table-key-properties": ["other"] }))).toEqual(["id"]);
    expect(keyProperties(entry({ key_properties: [] }, { "table-key-properties": ["id", "name"] }))).toEqual(["id", "name"]);
    expect(keyProperties(entry({}, { "view-key-properties": ["v"] }))).toEqual(["v"]);
    expect(keyProperties(entry())).toEqual([]);
    expect(replicationMethod(entry({ replication_method: "FULL_TABLE" }, { "replication-method": "incremental", "forced-replication-method": "LOG_BASED" }))).toBe("INCREMENTAL");
    expect(replicationMethod(entry({ replication_method: "FULL_TABLE" }, { "forced-replication-method": "LOG_BASED" }))).toBe("LOG_BASED");
    expect(replicationMethod(entry({ replication_method: "full_table" }))).toBe("FULL_TABLE");
    expect(replicationMethod(entry({}, { "replication-method": "SOMETIMES" }))).toBeUndefined();
    expect(replicationKey(entry({ replication_key: "updated_at" }))).toBe("updated_at");
    expect(replicationKey(entry({}, { "replication-method": "INCREMENTAL", "valid-replication-keys": ["ts"] }))).toBe("ts");
    expect(replicationKey(entry({}, { "replication-method": "FULL_TABLE", "valid-replication-keys": ["ts"] }))).toBeUndefined();
    expect(replicationKey(entry({}, { "replication-method": "INCREMENTAL", "valid-replication-keys": ["a", "b"] }))).toBeUndefined();
  });

  it("knows the names a tap writes on records: the id, the stream, its alias, and <schema-name>-<stream>", () => {
    expect(recordNames(entry({ stream_alias: "people" }))).toEqual(["db-public-users", "users", "people", "public-users"]);
  });

  it("leaves out entries without an id and repeated ids, naming them", () => {
    const { log, logs } = logger();
    const entries = catalogEntries({ streams: [{ stream: "only-stream", schema: {} }, { tap_stream_id: "x" }, { tap_stream_id: "x" }, {}, 3] }, log);
    expect(entries.map((e) => [e.tap_stream_id, e.schema])).toEqual([
      ["only-stream", {}],
      ["x", {}],
    ]);
    expect(logs().map((l) => l.message)).toEqual([
      "leaving out the tap's catalog's stream #2: tap_stream_id \"x\" is already taken by an earlier stream",
      "leaving out the tap's catalog's stream #3: it has neither a tap_stream_id nor a stream name",
      "leaving out the tap's catalog's stream #4: it is not an object",
    ]);
    expect(() => catalogEntries({ stream: [] }, log)).toThrow(`the tap's catalog has no "streams" list`);
  });
});

describe("syncCatalog", () => {
  it("selects exactly the bound streams at the root, with their method and key, and every available field of them", () => {
    const other = entry({ tap_stream_id: "orders", stream: "orders", metadata: [{ breadcrumb: [], metadata: { selected: "true" } }] });
    const split = entry({ tap_stream_id: "split", metadata: [{ breadcrumb: [], metadata: { "table-key-properties": ["id"] } }, { breadcrumb: [], metadata: { "forced-replication-method": "INCREMENTAL" } }] });
    const catalog = syncCatalog([entry(), other, split, { tap_stream_id: "bare", schema: {} }], new Map([["db-public-users", { replicationMethod: "INCREMENTAL", replicationKey: "id" }], ["split", {}], ["bare", {}]]));
    const [users, orders, merged, bare] = catalog.streams;
    expect(users!.metadata).toEqual([
      { breadcrumb: [], metadata: { "schema-name": "public", selected: true, "replication-method": "INCREMENTAL", "replication-key": "id" } },
      { breadcrumb: ["properties", "id"], metadata: { inclusion: "automatic", selected: true } },
      { breadcrumb: ["properties", "name"], metadata: { inclusion: "available", selected: true } },
      // Deselected by the catalog itself: kept so, as a boolean.
      { breadcrumb: ["properties", "secret"], metadata: { inclusion: "available", selected: false } },
    ]);
    expect(orders!.metadata![0]).toEqual({ breadcrumb: [], metadata: { selected: false } });
    expect(merged!.metadata).toEqual([{ breadcrumb: [], metadata: { "table-key-properties": ["id"], "forced-replication-method": "INCREMENTAL", selected: true } }]);
    expect(bare!.metadata).toEqual([{ breadcrumb: [], metadata: { selected: true } }]);
    expect(users!.schema).not.toHaveProperty("selected");
  });

  it("also marks the schema of legacy --properties taps", () => {
    const catalog = syncCatalog([entry(), entry({ tap_stream_id: "b" })], new Map([["b", {}]]), { properties: true });
    expect(catalog.streams.map((s) => s.schema.selected)).toEqual([false, true]);
  });
});

describe("modernSchema", () => {
  it("turns draft 4's boolean exclusive bounds into numbers, recursively, without touching the input", () => {
    const input = {
      $schema: "http://json-schema.org/draft-04/schema#",
      type: "object",
      properties: {
        gnp: { exclusiveMaximum: true, exclusiveMinimum: true, maximum: 10, minimum: -10, type: ["null", "number"] },
        n: { exclusiveMaximum: false, maximum: 5 },
        exclusiveMaximum: { type: "boolean" },
      },
      items: [{ exclusiveMinimum: true, minimum: 0 }],
    };
    const before = structuredClone(input);
    expect(modernSchema(input)).toEqual({
      type: "object",
      properties: { gnp: { exclusiveMaximum: 10, exclusiveMinimum: -10, type: ["null", "number"] }, n: { maximum: 5 }, exclusiveMaximum: { type: "boolean" } },
      items: [{ exclusiveMinimum: 0 }],
    });
    expect(input).toEqual(before);
  });
});
