import { describe, expect, it } from "vitest";
import { ResponseChecker } from "./responseChecker.js";
import { ProtocolViolationError, type RuleId } from "./rules.js";

const SPEC = { protocol: 3032023, configSchema: { type: "object" }, resourceConfigSchema: { type: "object" }, documentationUrl: "https://x" };
const OPEN = { open: { capture: { bindings: [{}, {}] } } };

/** Feeds requests and lines; returns the rule of the first violation, or "ok". */
function judge(requests: object[], lines: (object | string)[], atEnd = false): RuleId | "ok" {
  const checker = new ResponseChecker();
  for (const r of requests) checker.sent(r as Record<string, unknown>);
  try {
    lines.forEach((l, i) => checker.line(typeof l === "string" ? l : JSON.stringify(l), i + 1));
    if (atEnd) {
      const v = checker.end();
      if (v) throw v;
    }
    return "ok";
  } catch (error) {
    if (error instanceof ProtocolViolationError) return error.rule;
    throw error;
  }
}

const session = (...lines: object[]) => judge([OPEN], [{ opened: {} }, ...lines]);

describe("ResponseChecker", () => {
  it("accepts a well-formed conversation", () => {
    expect(judge([{ spec: {} }, { discover: {} }], [{ spec: SPEC }, { discovered: { bindings: [] } }], true)).toBe("ok");
    expect(session({ captured: { doc: { a: 1 } } }, { captured: { binding: 1, doc: {} } }, { checkpoint: { state: { updated: {} } } })).toBe("ok");
  });

  it("takes unevaluatedProperties: false as closing a sourced schema composed with allOf (as Estuary's SQL captures write them)", () => {
    const composed = {
      $defs: { Row: { type: "object", $anchor: "Row", properties: { id: { type: "integer" } } } },
      allOf: [{ properties: { _meta: { type: "object", properties: { op: {} }, additionalProperties: false } } }, { $ref: "#Row" }],
      unevaluatedProperties: false,
    };
    expect(session({ sourcedSchema: { documentSchema: composed } }, { checkpoint: { state: { updated: {} } } })).toBe("ok");
    const nestedOpen = { ...composed, allOf: [{ properties: { _meta: { type: "object", properties: { op: {} } } } }, { $ref: "#Row" }] };
    expect(session({ sourcedSchema: { documentSchema: nestedOpen } }, { checkpoint: { state: { updated: {} } } })).toBe("sourced-schema-closed");
  });

  it("accepts proto field names, as Flow's decoder does, and passes the response on with JSON names", () => {
    // What the Estuary Python CDK writes for a sourced schema, among others (flow-protocol.md §3.2).
    const closed = { type: "object", properties: { n: { type: "integer" } }, additionalProperties: false };
    expect(session({ sourcedSchema: { schema_json: closed } }, { captured: { doc_json: { n: 1 } } }, { checkpoint: { state: { updated_json: {}, merge_patch: true } } })).toBe("ok");
    expect(judge([{ spec: {} }], [{ spec: { protocol: 3032023, config_schema_json: { type: "object" }, resource_config_schema_json: { type: "object" }, documentation_url: "https://x" } }], true)).toBe("ok");

    const checker = new ResponseChecker();
    checker.sent(OPEN);
    checker.line('{"opened": {}}', 1);
    expect(checker.line('{"captured": {"binding": 1, "doc_json": {"n": 1}}}', 2).response).toEqual({ captured: { binding: 1, doc: { n: 1 } } });
    expect(checker.line('{"checkpoint": {"state": {"updated_json": {"a": 1}, "merge_patch": true}}}', 3).response).toEqual({ checkpoint: { state: { updated: { a: 1 }, mergePatch: true } } });
  });

  it.each<[string, () => RuleId | "ok", RuleId]>([
    ["a line that is not JSON", () => judge([{ spec: {} }], ["hello"]), "json-line"],
    ["a JSON array", () => judge([{ spec: {} }], ["[1]"]), "json-line"],
    ["no known variant", () => judge([{ spec: {} }], [{ specification: {} }]), "one-variant"],
    ["two variants", () => judge([{ spec: {} }], [{ spec: SPEC, applied: {} }]), "one-variant"],
    ["an unknown top-level field", () => judge([{ spec: {} }], [{ spec: SPEC, extra: 1 }]), "known-fields"],
    ["an unknown nested field", () => judge([{ spec: {} }], [{ spec: { ...SPEC, oauth2: { provider: "p", authUrlTemplate: "a", accessTokenUrlTemplate: "b", colour: 1 } } }]), "known-fields"],
    ["a field given under both its names", () => session({ captured: { doc: {}, doc_json: {} } }), "known-fields"],
    ["an open sourced schema under its proto name", () => session({ sourcedSchema: { schema_json: { type: "object", properties: { n: {} } } } }), "sourced-schema-closed"],
    ["a null field", () => judge([{ spec: {} }], [{ spec: { ...SPEC, oauth2: null } }]), "no-nulls"],
    ["a field of the wrong type", () => judge([{ spec: {} }], [{ spec: { ...SPEC, documentationUrl: 7 } }]), "field-types"],
    ["another protocol version", () => judge([{ spec: {} }], [{ spec: { ...SPEC, protocol: 1 } }]), "protocol-version"],
    ["the wrong answer", () => judge([{ validate: { bindings: [] } }], [{ applied: {} }]), "expected-response"],
    ["an answer nobody asked for", () => judge([], [{ spec: SPEC }]), "expected-response"],
    ["too few validated bindings", () => judge([{ validate: { bindings: [{}] } }], [{ validated: {} }]), "validated-bindings"],
    ["an empty resource path", () => judge([{ validate: { bindings: [{}] } }], [{ validated: { bindings: [{ resourcePath: [] }] } }]), "validated-bindings"],
    ["captured before opened", () => judge([OPEN], [{ captured: { doc: {} } }]), "opened-first"],
    ["a spec during a session", () => session({ spec: SPEC }), "session-messages"],
    ["a checkpoint without state", () => session({ checkpoint: {} }), "checkpoint-state"],
    ["a checkpoint without updated", () => session({ checkpoint: { state: { mergePatch: true } } }), "checkpoint-state"],
    ["a binding out of range", () => session({ captured: { binding: 2, doc: {} } }), "binding-index"],
    ["a document that is not an object", () => session({ captured: { doc: [1] } }), "document-object"],
    ["a string binding", () => session({ captured: { binding: "1", doc: {} } }), "field-types"],
    ["an open sourced schema", () => session({ sourcedSchema: { documentSchema: { type: "object", properties: { a: { type: "object", properties: { b: {} }, additionalProperties: false } } } } }), "sourced-schema-closed"],
    ["an open nested sourced schema", () => session({ sourcedSchema: { documentSchema: { type: "object", properties: { a: { type: "object", properties: { b: {} } } }, additionalProperties: false } } }), "sourced-schema-closed"],
    ["the end inside a sequence", () => judge([OPEN], [{ opened: {} }, { captured: { doc: {} } }], true), "eof-in-sequence"],
    ["the end before an answer", () => judge([{ spec: {} }, { discover: {} }], [{ spec: SPEC }], true), "expected-response"],
  ])("refuses %s", (_name, run, rule) => {
    expect(run()).toBe(rule);
  });

  it("says which line broke which rule, with a hint", () => {
    const checker = new ResponseChecker();
    checker.sent({ spec: {} });
    try {
      checker.line('{"spec": {"protocol": 3032023, "extra": true}}', 4);
      throw new Error("accepted");
    } catch (error) {
      expect((error as Error).message).toBe(
        [
          "protocol violation [known-fields]: stdout line 4: spec.extra is not a field Flow knows",
          '  line: {"spec": {"protocol": 3032023, "extra": true}}',
          "  rule: responses hold only fields Flow knows",
          "  hint: Flow's runtime rejects unknown fields: remove it (newer fields such as isFallbackKey need a runtime that knows them)",
        ].join("\n"),
      );
    }
  });
});
