import { describe, expect, it } from "vitest";
import { haveSharedFixtures, readSnapJson } from "../../test/helpers/fixtures.js";
import {
  capturedDocJson,
  capturedPrefix,
  CAPTURED_SUFFIX,
  encodeCheckpoint,
  encodeResponse,
  encodeSourcedSchema,
  RESPONSE_VARIANTS,
  type ResponseVariant,
} from "./encode.js";
import type { Response } from "./generated/types.js";

const golden = haveSharedFixtures ? (readSnapJson("flow/wire/regression__capture_response_json.snap") as Record<string, unknown>) : {};

/** Canonical text of a JSON value, preserving key order (so order differences fail). */
const text = (value: unknown) => JSON.stringify(value);

describe.runIf(haveSharedFixtures)("encodeResponse against Flow's response golden", () => {
  const variants = RESPONSE_VARIANTS.filter((v) => v in golden) as ResponseVariant[];

  it("the golden holds every variant but sourcedSchema (it predates it)", () => {
    expect(variants).toEqual(RESPONSE_VARIANTS.filter((v) => v !== "sourcedSchema"));
  });

  it.each(variants)("writes the %s variant byte-for-byte as Flow's encoder (same fields, same order)", (variant) => {
    const line = encodeResponse({ [variant]: golden[variant] } as Response, { emitIsFallbackKey: true });
    expect(line.endsWith("\n")).toBe(true);
    expect(line.indexOf("\n")).toBe(line.length - 1);
    expect(line.slice(0, -1)).toBe(text({ [variant]: golden[variant] }));
  });

  it("writes the oauth2 golden as Flow does", () => {
    const oauth2 = readSnapJson("flow/wire/regression__oauth2_json.snap");
    const spec = { protocol: 3032023, configSchema: {}, resourceConfigSchema: {}, documentationUrl: "https://x", oauth2 };
    expect(encodeResponse({ spec } as Response)).toBe(text({ spec }) + "\n");
  });
});

describe("encodeResponse is strict in what it emits", () => {
  it("omits defaults and nulls", () => {
    expect(encodeResponse({ applied: { actionDescription: "" } })).toBe('{"applied":{}}\n');
    expect(encodeResponse({ opened: { explicitAcknowledgements: false } })).toBe('{"opened":{}}\n');
    expect(encodeResponse({ captured: { binding: 0, doc: { a: null } } })).toBe('{"captured":{"doc":{"a":null}}}\n');
    const binding = { recommendedName: "t", resourceConfig: {}, documentSchema: {}, key: ["/id"], disable: false, resourcePath: [] };
    expect(encodeResponse({ discovered: { bindings: [binding] } })).toBe(
      '{"discovered":{"bindings":[{"recommendedName":"t","resourceConfig":{},"documentSchema":{},"key":["/id"]}]}}\n',
    );
    const withNull = { spec: { protocol: 3032023, configSchema: {}, resourceConfigSchema: {}, documentationUrl: "u", oauth2: null } };
    expect(encodeResponse(withNull as unknown as Response)).not.toContain("oauth2");
  });

  it("keeps empty strings inside lists (only fields have defaults)", () => {
    expect(encodeResponse({ validated: { bindings: [{ resourcePath: ["", "b"] }] } })).toBe('{"validated":{"bindings":[{"resourcePath":["","b"]}]}}\n');
  });

  it("drops fields Flow does not know and reports them", () => {
    const dropped: string[] = [];
    const response = { applied: { actionDescription: "did it", extra: 1 } } as unknown as Response;
    expect(encodeResponse(response, { onUnknownField: (p) => dropped.push(p) })).toBe('{"applied":{"actionDescription":"did it"}}\n');
    expect(dropped).toEqual(["applied.extra"]);
  });

  it("writes isFallbackKey only when the connector opts in (older runtimes reject it)", () => {
    const binding = { recommendedName: "t", resourceConfig: {}, documentSchema: {}, key: ["/_meta/row_id"], isFallbackKey: true };
    expect(encodeResponse({ discovered: { bindings: [binding] } })).not.toContain("isFallbackKey");
    expect(encodeResponse({ discovered: { bindings: [binding] } }, { emitIsFallbackKey: true })).toContain('"isFallbackKey":true');
  });

  it("rejects a response that is not exactly one valid variant, naming the field", () => {
    expect(() => encodeResponse({})).toThrow(/exactly one of spec, discovered/);
    expect(() => encodeResponse({ applied: {}, opened: {} })).toThrow(/got applied, opened/);
    expect(() => encodeResponse({ spec: { protocol: 3032023, configSchema: {}, resourceConfigSchema: {} } } as unknown as Response)).toThrow(
      /invalid spec response: spec.documentationUrl: is required/,
    );
    expect(() => encodeResponse({ checkpoint: {} } as unknown as Response)).toThrow(/checkpoint.state: is required/);
  });
});

/** A `captured` line as the runtime's spool writes it: the binding's prefix, the document's JSON, the suffix. */
const capturedLine = (binding: number, doc: object) => capturedPrefix(binding) + capturedDocJson(doc) + CAPTURED_SUFFIX;

describe("record path encoders", () => {
  it("write exactly what the generic encoder writes", () => {
    const doc = { id: 1, s: "é\n\"", nested: { a: [1, null] } };
    for (const binding of [0, 1, 4095, 4096, 70000]) {
      expect(capturedLine(binding, doc)).toBe(encodeResponse({ captured: { binding, doc } }));
      expect(encodeSourcedSchema(binding, { type: "object" })).toBe(encodeResponse({ sourcedSchema: { binding, documentSchema: { type: "object" } } }));
    }
    for (const state of [{ updated: {} }, { updated: { a: { b: null } }, mergePatch: true }, { updated: { x: 1 }, mergePatch: false }]) {
      expect(encodeCheckpoint(state)).toBe(encodeResponse({ checkpoint: { state } }));
    }
    expect(encodeCheckpoint({ updated: {} })).toBe('{"checkpoint":{"state":{"updated":{}}}}\n');
  });

  it("refuse what Flow would refuse", () => {
    expect(() => capturedLine(-1, {})).toThrow(/binding must be an index/);
    expect(() => capturedLine(1.5, {})).toThrow(/binding must be an index/);
    expect(() => capturedLine(0, [] as unknown as object)).toThrow(/must be a JSON object, got an array/);
    expect(() => encodeCheckpoint({ updated: null as unknown as Record<string, unknown> })).toThrow(/state.updated must be a JSON object/);
  });
});
