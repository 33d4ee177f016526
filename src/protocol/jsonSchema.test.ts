import { describe, expect, it } from "vitest";
import { createSchemaCompiler } from "./jsonSchema.js";

describe("createSchemaCompiler", () => {
  it("takes Flow's schemas as Flow writes them: unknown keywords and annotations compile", () => {
    const schema = { type: "object", properties: { token: { type: "string", secret: true, airbyte_secret: true, order: 1 }, n: { type: "integer", reduce: { strategy: "sum" } } }, "x-infer-schema": true };
    expect(createSchemaCompiler().compile(schema)({ token: "t", n: 1 })).toBe(true);
  });

  it("checks formats unless told not to", () => {
    const schema = { type: "string", format: "date-time" };
    expect(createSchemaCompiler().compile(schema)("yesterday")).toBe(false);
    expect(createSchemaCompiler({ formats: false }).compile(schema)("yesterday")).toBe(true);
  });

  it("reports every problem by default, the first one with allErrors false, and fills defaults on request", () => {
    const schema = { type: "object", required: ["a", "b"], properties: { c: { type: "integer", default: 3 } } };
    const all = createSchemaCompiler().compile(schema);
    all({});
    expect(all.errors).toHaveLength(2);
    const first = createSchemaCompiler({ allErrors: false }).compile(schema);
    first({});
    expect(first.errors).toHaveLength(1);
    const value: Record<string, unknown> = { a: 1, b: 2 };
    expect(createSchemaCompiler({ useDefaults: true }).compile(schema)(value)).toBe(true);
    expect(value.c).toBe(3);
  });
});
