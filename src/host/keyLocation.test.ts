import { describe, expect, it } from "vitest";
import { keyLocationProblem } from "./keyLocation.js";

// Flow refuses a collection whose key is not a required, keyable location of its schema:
// crates/validation/src/collection.rs @2c88f15d walks each key with walk_ptr(ptr, true); the
// existence rules are those of crates/doc/src/shape/location.rs (its test_locate cases, below).
const flowLocateFixture = {
  type: "object",
  properties: {
    prop: { const: "prop" },
    parent: {
      type: "object",
      properties: { "opt-child": { const: "opt-child" }, "req-child": { const: "req-child" }, impossible: { allOf: [{ type: "integer" }, { type: "string" }] } },
      required: ["req-child"],
    },
    "multi-type": { type: ["object", "array"], properties: { child: { const: "multi-type-child" } }, required: ["child"] },
    "1": { type: "object", properties: { "-": { type: "object", properties: { "2": { const: "int-prop" } }, required: ["2"] } }, required: ["-"] },
  },
  required: ["parent", "1"],
  additionalProperties: { const: "addl-prop" },
};

describe("keyLocationProblem", () => {
  it("accepts what Flow's shape says must exist, and refuses what may not", () => {
    expect(keyLocationProblem(flowLocateFixture, "/1/-/2")).toBeUndefined();
    expect(keyLocationProblem(flowLocateFixture, "/parent/req-child")).toBeUndefined();
    expect(keyLocationProblem(flowLocateFixture, "/prop")).toMatch(/is not required to exist/);
    expect(keyLocationProblem(flowLocateFixture, "/missing")).toMatch(/is not required to exist/); // additionalProperties
    expect(keyLocationProblem(flowLocateFixture, "/parent/opt-child")).toMatch(/is not required to exist/);
    expect(keyLocationProblem(flowLocateFixture, "/parent/missing")).toMatch(/is not a location the document schema knows/);
    expect(keyLocationProblem(flowLocateFixture, "/parent/impossible")).toMatch(/can never exist/);
    // Required of a location that may be an array too: may not exist.
    expect(keyLocationProblem(flowLocateFixture, "/multi-type/child")).toMatch(/is not required to exist/);
  });

  it("refuses the issue's case: a key the schema does not have", () => {
    const schema = { type: "object", properties: { id: { type: "integer" } }, required: ["id"] };
    expect(keyLocationProblem(schema, "/id")).toBeUndefined();
    expect(keyLocationProblem(schema, "/nope")).toBe("/nope is not a location the document schema knows (declare it under properties, and list it in required)");
    expect(keyLocationProblem({ type: "object", properties: { id: { type: "integer" } } }, "/id")).toMatch(/is not required to exist/);
    expect(keyLocationProblem({ properties: { id: { type: "integer" } }, required: ["id"] }, "/id")).toMatch(/is not required to exist/); // no type: object
  });

  it("refuses keys that may hold objects, arrays or fractional numbers", () => {
    const schema = { type: "object", properties: { o: { type: "object" }, n: { type: "number" }, s: { type: ["string", "null"] } }, required: ["o", "n", "s"] };
    expect(keyLocationProblem(schema, "/o")).toMatch(/may hold an object/);
    expect(keyLocationProblem(schema, "/n")).toMatch(/may hold a fractional number/);
    expect(keyLocationProblem(schema, "/s")).toBeUndefined();
  });

  it("follows $ref, allOf and oneOf as Flow's shape does", () => {
    const schema = {
      $defs: { Id: { type: "string" } },
      type: "object",
      allOf: [{ required: ["a"] }],
      properties: { a: { $ref: "#/$defs/Id" }, b: { type: "integer" } },
      oneOf: [{ required: ["b"] }, { required: ["b", "a"] }],
    };
    expect(keyLocationProblem(schema, "/a")).toBeUndefined();
    expect(keyLocationProblem(schema, "/b")).toBeUndefined();
    expect(keyLocationProblem({ ...schema, oneOf: [{ required: ["b"] }, { required: ["a"] }] }, "/b")).toMatch(/is not required to exist/);
  });

  it("follows a $ref to an $anchor, as Estuary's SQL captures write their document schemas", () => {
    const schema = {
      $defs: { PublicUsers: { type: "object", $anchor: "PublicUsers", required: ["id"], properties: { id: { type: "integer" }, note: { type: "string" } } } },
      allOf: [{ properties: { _meta: { type: "object" } } }, { $ref: "#PublicUsers" }],
    };
    expect(keyLocationProblem(schema, "/id")).toBeUndefined();
    expect(keyLocationProblem(schema, "/note")).toMatch(/is not required to exist/);
    expect(keyLocationProblem({ ...schema, allOf: [{ $ref: "#Missing" }] }, "/id")).toMatch(/is not a location the document schema knows/);
    // A keyless table's fallback key: the WAL location, an array of three integers under an allOf branch's _meta.
    const loc = { type: "array", items: { type: "integer" }, minItems: 3, maxItems: 3 };
    const keyless = { allOf: [{ required: ["_meta"], properties: { _meta: { type: "object", required: ["source"], properties: { source: { type: "object", required: ["loc"], properties: { loc } } } } } }] };
    expect(keyLocationProblem(keyless, "/_meta/source/loc/2")).toBeUndefined();
    expect(keyLocationProblem(keyless, "/_meta/source/loc/3")).toMatch(/is not required to exist/);
  });

  it("takes /_meta as always there, and an optional location with a default, as Estuary's connectors key them", () => {
    // source-hubspot-native's discovered snapshot keys /_meta/row_id: _meta is not in the root
    // required, and row_id is optional with default -1; Flow publishes it.
    const hubspot = {
      $defs: { Meta: { type: "object", properties: { op: { type: "string", enum: ["c", "u", "d"] }, row_id: { type: "integer", default: -1 } } } },
      type: "object",
      properties: { _meta: { $ref: "#/$defs/Meta" }, type: { type: "string" } },
      required: ["type"],
    };
    expect(keyLocationProblem(hubspot, "/_meta/row_id")).toBeUndefined();
    // The Airbyte shim's: _meta declared with row_id required.
    expect(keyLocationProblem({ type: "object", properties: { _meta: { type: "object", properties: { row_id: { type: "integer" } }, required: ["row_id"] } } }, "/_meta/row_id")).toBeUndefined();
    expect(keyLocationProblem({ type: "object" }, "/_meta/row_id")).toMatch(/is not a location the document schema knows/);
  });
});
