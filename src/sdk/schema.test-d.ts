import { describe, expectTypeOf, it } from "vitest";
import type { FromSchema } from "./schema.js";

describe("FromSchema", () => {
  it("infers objects, required and defaulted properties as non-optional", () => {
    const schema = {
      type: "object",
      properties: {
        host: { type: "string" },
        port: { type: "integer", default: 5432 },
        tls: { type: "boolean" },
        mode: { enum: ["a", "b"] },
      },
      required: ["host"],
    } as const;
    expectTypeOf<FromSchema<typeof schema>>().toEqualTypeOf<{ host: string; port: number; tls?: boolean; mode?: "a" | "b" }>();
  });

  it("infers arrays, unions, nullable types, const and nested objects", () => {
    const schema = {
      type: "object",
      properties: {
        tags: { type: "array", items: { type: "string" } },
        limit: { type: ["integer", "null"] },
        credentials: {
          oneOf: [
            { type: "object", properties: { kind: { const: "token" }, token: { type: "string" } }, required: ["kind", "token"] },
            { type: "object", properties: { kind: { const: "basic" }, user: { type: "string" } }, required: ["kind"] },
          ],
        },
      },
      required: ["tags", "credentials"],
    } as const;
    type T = FromSchema<typeof schema>;
    expectTypeOf<T["tags"]>().toEqualTypeOf<string[]>();
    expectTypeOf<T["limit"]>().toEqualTypeOf<number | null | undefined>();
    expectTypeOf<T["credentials"]>().toEqualTypeOf<{ kind: "token"; token: string } | { kind: "basic"; user?: string }>();
  });

  it("keeps additional properties where the schema allows them", () => {
    const open = { type: "object", properties: { a: { type: "string" } }, additionalProperties: { type: "number" } } as const;
    expectTypeOf<FromSchema<typeof open>["other"]>().toEqualTypeOf<number | undefined>();
    expectTypeOf<FromSchema<{ type: "object" }>>().toEqualTypeOf<{ [key: string]: unknown }>();
    expectTypeOf<FromSchema<{ $ref: "#/x" }>>().toEqualTypeOf<unknown>();
  });
});
