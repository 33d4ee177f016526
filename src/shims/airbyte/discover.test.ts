import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { LineCollector } from "../../../test/helpers/inProcess.js";
import { encodeResponse } from "../../protocol/index.js";
import { createLogger } from "../../runtime/index.js";
import { discoveredBindings, documentSchema, keyPointers, recommendedName } from "./discover.js";

function logger() {
  const lines = new LineCollector();
  const log = createLogger({ stream: new Writable({ write: (c, _e, cb) => (lines.push(c as Buffer), cb()) }), level: "debug" });
  return { log, logs: () => lines.json as { level: string; message: string }[] };
}

describe("keyPointers", () => {
  it("turns every form of source_defined_primary_key into RFC 6901 pointers, escaping ~ and /", () => {
    expect(keyPointers("id")).toEqual(["/id"]);
    expect(keyPointers(["a", "b"])).toEqual(["/a", "/b"]);
    expect(keyPointers([["a", "b"], ["c"]])).toEqual(["/a/b", "/c"]);
    expect(keyPointers([["a/b"], ["c~d"], ["x", "y/z~"]])).toEqual(["/a~1b", "/c~0d", "/x/y~1z~0"]);
    expect(keyPointers([["segments.date"]])).toEqual(["/segments.date"]);
    expect(keyPointers(undefined)).toEqual([]);
    expect(keyPointers([])).toEqual([]);
    expect(keyPointers("")).toEqual([]);
  });
});

describe("recommendedName", () => {
  it("keeps what Flow accepts and replaces the rest, per path segment", () => {
    expect(recommendedName("users")).toBe("users");
    expect(recommendedName("orders", "public")).toBe("public/orders");
    expect(recommendedName("Sheet 1 (copy)")).toBe("Sheet_1__copy_");
    expect(recommendedName("test_base/pizzas/tblY71")).toBe("test_base/pizzas/tblY71");
    expect(recommendedName("HKD@spéçiäl & characters")).toBe("HKD_spéçiäl___characters");
    expect(recommendedName("a//b/")).toBe("a/b");
    expect(recommendedName("/")).toBe("stream");
  });
});

describe("documentSchema", () => {
  it("makes a primary key required and not nullable, parents included, as Estuary's Airbyte shim does (Flow refuses a key that may not exist)", () => {
    const source = {
      type: "object",
      properties: { id: { type: ["string", "null"] }, doc: { type: ["object", "null"], properties: { n: { type: ["integer", "null"] } } }, name: { type: "string" } },
      required: ["name"],
    };
    const schema = documentSchema(source, false, ["/id", "/doc/n"]);
    expect(schema.required).toEqual(["name", "id", "doc"]);
    expect(schema.properties).toMatchObject({ id: { type: "string" }, doc: { type: "object", required: ["n"], properties: { n: { type: "integer" } } } });
    expect(source.properties.id.type).toEqual(["string", "null"]); // the stream's schema is not modified
    // Where the schema does not declare the key plainly, it is left alone (the host reports it).
    expect(documentSchema({ type: "object", properties: { a: { $ref: "#/$defs/A" } } }, false, ["/a/b"]).properties).toMatchObject({ a: { $ref: "#/$defs/A" } });
  });

  it("adds _meta.row_id without touching the stream's own schema", () => {
    const source = { type: "object", properties: { id: { type: "integer" } }, required: ["id"] };
    const schema = documentSchema(source, false);
    expect(schema).toEqual({
      type: "object",
      properties: { id: { type: "integer" }, _meta: { type: "object", properties: { row_id: { type: "integer" } }, required: ["row_id"] } },
      required: ["id"],
    });
    expect(source.properties).not.toHaveProperty("_meta");
  });

  it("extends an existing _meta, and for row-id keyed streams lets a deletion carry only _meta", () => {
    const schema = documentSchema({ type: "object", properties: { _meta: { type: "object", properties: { x: {} } }, name: { type: "string" } }, required: ["name"] }, true);
    expect(schema.properties).toMatchObject({ _meta: { properties: { x: {}, row_id: { type: "integer" } }, required: ["row_id"] } });
    expect(schema.required).toBeUndefined();
    expect(schema.else).toEqual({ required: ["name"] });
    expect(schema.then).toEqual({ reduce: { strategy: "merge", delete: true } });
  });
});

describe("discoveredBindings", () => {
  const stream = (name: string, extra: Record<string, unknown> = {}) => ({ name, json_schema: { type: "object", properties: {} }, ...extra });

  it("maps streams to bindings: keys, sync modes, cursor fields, namespaces, row ids for keyless full refresh", () => {
    const { log, logs } = logger();
    const bindings = discoveredBindings(
      {
        streams: [
          stream("users", { supported_sync_modes: ["full_refresh", "incremental"], source_defined_primary_key: [["id"]], default_cursor_field: ["updated_at"] }),
          stream("events", { supported_sync_modes: ["full_refresh"] }),
          stream("logs", { supported_sync_modes: ["full_refresh", "incremental"], default_cursor_field: "ts" }),
          stream("cdc", { supported_sync_modes: ["incremental"] }),
          stream("orders", { supported_sync_modes: ["incremental"], source_defined_primary_key: "id", namespace: "shop" }),
          { json_schema: {} } as never,
        ],
      },
      log,
    );
    expect(bindings.map(({ documentSchema: _s, ...b }) => b)).toEqual([
      { recommendedName: "users", resourceConfig: { stream: "users", syncMode: "incremental", cursorField: ["updated_at"] }, key: ["/id"], resourcePath: ["users"] },
      { recommendedName: "events", resourceConfig: { stream: "events", syncMode: "full_refresh" }, key: ["/_meta/row_id"], resourcePath: ["events"] },
      // Keyless but incremental-capable: full refresh, keyed by row id (its cursor stays as discovered).
      { recommendedName: "logs", resourceConfig: { stream: "logs", syncMode: "full_refresh", cursorField: ["ts"] }, key: ["/_meta/row_id"], resourcePath: ["logs"] },
      { recommendedName: "shop/orders", resourceConfig: { stream: "orders", syncMode: "incremental", namespace: "shop" }, key: ["/id"], resourcePath: ["shop", "orders"] },
    ]);
    expect(logs()).toContainEqual(expect.objectContaining({ level: "warn", message: expect.stringMatching(/^leaving out stream "cdc": it supports only incremental reads and has no primary key/) }));
    expect(logs()).toContainEqual(expect.objectContaining({ level: "warn", message: "leaving out catalog stream #5: it has no name" }));
    // Flow takes it.
    expect(() => encodeResponse({ discovered: { bindings } })).not.toThrow();
  });

  it("gives a keyed full-refresh stream the deletion rule, its key required, so its refreshes can delete rows; an incremental one none", () => {
    const json_schema = { type: "object", properties: { id: { type: "integer" }, name: { type: "string" } }, required: ["id", "name"] };
    const [full, incremental] = discoveredBindings(
      { streams: [stream("tags", { json_schema, supported_sync_modes: ["full_refresh"], source_defined_primary_key: [["id"]] }), stream("users", { json_schema, supported_sync_modes: ["incremental"], source_defined_primary_key: [["id"]] })] },
      logger().log,
    );
    expect(full!.documentSchema).toMatchObject({ required: ["id"], else: { required: ["name"] }, then: { reduce: { strategy: "merge", delete: true } } });
    expect(incremental!.documentSchema).toMatchObject({ required: ["id", "name"] });
    expect(incremental!.documentSchema).not.toHaveProperty("then");
  });

  it("makes names unique after cleaning", () => {
    const { log } = logger();
    const names = discoveredBindings({ streams: [stream("a b"), stream("a_b"), stream("a?b")] }, log).map((b) => b.recommendedName);
    expect(names).toEqual(["a_b", "a_b_2", "a_b_3"]);
  });

  it("fails clearly on a catalog without streams", () => {
    expect(() => discoveredBindings({} as never, logger().log)).toThrow("the source's CATALOG has no streams list");
  });
});
