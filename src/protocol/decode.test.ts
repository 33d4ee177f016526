import { describe, expect, it } from "vitest";
import { haveSharedFixtures, readFixture } from "../../test/helpers/fixtures.js";
import { decodeRequest, REQUEST_VARIANTS } from "./decode.js";
import { RequestDecodeError } from "./errors.js";

const golden = haveSharedFixtures ? (JSON.parse(readFixture("flow/wire/capture_request_all_variants.json")) as Record<string, unknown>) : {};

describe.runIf(haveSharedFixtures)("decodeRequest against Flow's request golden", () => {
  it("covers every request variant", () => {
    expect(Object.keys(golden).filter((k) => k !== "$internal").sort()).toEqual([...REQUEST_VARIANTS].sort());
  });

  it.each(REQUEST_VARIANTS)("decodes the %s variant with every field intact", (variant) => {
    const line = JSON.stringify({ [variant]: golden[variant], $internal: golden.$internal });
    const decoded = decodeRequest(line, 7) as Record<string, unknown>;
    expect(decoded.variant).toBe(variant);
    // Every field of the golden is known to flowcap, so nothing is dropped; defaults fill gaps.
    expect(decoded[variant]).toMatchObject(golden[variant] as object);
  });

  it("fills Flow's omitted defaults", () => {
    const open = decodeRequest(JSON.stringify({ open: { capture: { name: "a/b" } } }), 1);
    expect(open).toEqual({
      variant: "open",
      open: {
        capture: { name: "a/b", config: {}, bindings: [] },
        version: "",
        range: { keyBegin: 0, keyEnd: 4294967295, rClockBegin: 0, rClockEnd: 4294967295 },
        state: {},
      },
    });
    expect(decodeRequest('{"acknowledge":{}}', 1)).toEqual({ variant: "acknowledge", acknowledge: { checkpoints: 0 } });
    const partialRange = decodeRequest(JSON.stringify({ open: { capture: {}, range: { keyEnd: 5, rClockEnd: 9 } } }), 1);
    expect(partialRange.variant === "open" && partialRange.open.range).toEqual({ keyBegin: 0, keyEnd: 5, rClockBegin: 0, rClockEnd: 9 });
  });
});

describe("decodeRequest tolerance", () => {
  it("ignores unknown keys and $internal at every level, but keeps raw values whole", () => {
    const line = JSON.stringify({
      $internal: "EgJIaRgB",
      futureTopLevel: 1,
      validate: {
        name: "acmeCo/x",
        newField: true,
        config: { any: { nested: null, unknown: 1 } },
        bindings: [{ resourceConfig: { name: "t", extra: 1 }, collection: { name: "c", key: ["/id"], brandNew: {} }, other: 2 }],
      },
    });
    const decoded = decodeRequest(line, 1);
    expect(decoded).toEqual({
      variant: "validate",
      validate: {
        name: "acmeCo/x",
        config: { any: { nested: null, unknown: 1 } },
        bindings: [{ resourceConfig: { name: "t", extra: 1 }, collection: { name: "c", key: ["/id"] }, backfill: 0 }],
      },
    });
  });

  it("accepts proto field names, as Flow's decoder does", () => {
    expect(decodeRequest('{"spec":{"connector_type":"IMAGE","config_json":{"a":1}}}', 1)).toEqual({ variant: "spec", spec: { config: { a: 1 } } });
    expect(decodeRequest('{"open":{"capture":{"config_json":{"a":1}},"state_json":{"s":1}}}', 1)).toMatchObject({ open: { capture: { config: { a: 1 } }, state: { s: 1 } } });
  });

  it("reads null as absent", () => {
    expect(decodeRequest('{"discover":{"config":null,"name":null}}', 1)).toEqual({ variant: "discover", discover: { config: {} } });
  });
});

describe("decodeRequest errors name the line and the problem", () => {
  const reject = (text: string, line = 3) => {
    try {
      decodeRequest(text, line);
    } catch (error) {
      expect(error).toBeInstanceOf(RequestDecodeError);
      expect((error as RequestDecodeError).userFacing).toBe(true);
      return (error as Error).message;
    }
    throw new Error(`accepted ${text}`);
  };

  it.each([
    ["not json", /^request line 3: not valid JSON: Unexpected token/],
    ['{"spec":', /^request line 3: not valid JSON/],
    ["[1,2]", /^request line 3: expected a JSON object, got an array$/],
    ["42", /^request line 3: expected a JSON object, got a number$/],
    ["null", /^request line 3: expected a JSON object, got null$/],
    ["{}", /^request line 3: holds no known request \(expected one of spec, discover, validate, apply, open, acknowledge; got no keys\)$/],
    ['{"fetch":{}}', /got "fetch"/],
    ['{"spec":{},"discover":{}}', /^request line 3: holds 2 requests \(spec, discover\); a request line must hold exactly one$/],
    ['{"spec":"now"}', /^request line 3: invalid spec request: spec: must be object$/],
    ['{"open":{"capture":{"bindings":{}}}}', /^request line 3: invalid open request: open.capture.bindings: must be array$/],
    ['{"open":{"state":{}}}', /invalid open request: open.capture: is required/],
    ['{"acknowledge":{"checkpoints":-1}}', /acknowledge.checkpoints: must be >= 0/],
    ['{"validate":{"bindings":[{"collection":{"name":"x","key":"/id"}}]}}', /validate.bindings\[0\].collection.key: must be array/],
  ])("%s", (text, expected) => {
    expect(reject(text)).toMatch(expected);
  });

  it("does not quote the input of a malformed line (it may hold secrets nobody could redact yet)", () => {
    const message = reject('{"spec":{"config":{"password":"hunter22"}} oops');
    expect(message).not.toContain("hunter22");
  });
});
