import { describe, expect, it } from "vitest";
import { applyFlowMergePatch, compareFlowValues, compareUtf8, composeFlowMergePatches, formatF64, parseFlowJson, stringifyFlowJson, toFlowValue } from "./flowJson.js";

const roundTrip = (text: string) => stringifyFlowJson(parseFlowJson(text));

describe("Flow's JSON", () => {
  it("keeps integers digit for digit within u64 and i64, as serde_json reads them into Flow's documents", () => {
    expect(roundTrip('{"a":12345678901234567890,"b":-9223372036854775808,"c":9007199254740993}')).toBe('{"a":12345678901234567890,"b":-9223372036854775808,"c":9007199254740993}');
    // Beyond u64 (or below i64) serde_json reads an f64.
    expect(roundTrip("[18446744073709551616,-9223372036854775809]")).toBe("[1.8446744073709552e19,-9.223372036854776e18]");
    expect(JSON.stringify(JSON.parse("12345678901234567890"))).toBe("12345678901234567000"); // what JSON.parse does
  });

  it("prints floats as serde_json does (ryu's format64)", () => {
    const cases: [number, string][] = [
      [1, "1.0"],
      [0, "0.0"],
      [-0, "-0.0"],
      [1.5, "1.5"],
      [-2.25, "-2.25"],
      [0.1, "0.1"],
      [123456.789, "123456.789"],
      [1e15, "1000000000000000.0"],
      [1e16, "1e16"],
      [1.5e17, "1.5e17"],
      [1e21, "1e21"],
      [0.0001, "0.0001"],
      [0.00001, "0.00001"],
      [0.000001, "1e-6"],
      [1.2345e-7, "1.2345e-7"],
      [5e-324, "5e-324"],
      [1.7976931348623157e308, "1.7976931348623157e308"],
    ];
    for (const [value, text] of cases) expect(formatF64(value), String(value)).toBe(text);
    expect(roundTrip("[1.0,1e2,1E2,-0,2.50,0.1e1]")).toBe("[1.0,100.0,100.0,-0.0,2.5,1.0]");
  });

  it("sorts properties by their UTF-8 bytes, integer-like names included (JS objects put those first)", () => {
    expect(roundTrip('{"b":1,"10":2,"9":3,"a":{"z":1,"y":2}}')).toBe('{"10":2,"9":3,"a":{"y":2,"z":1},"b":1}');
    // U+FF5E (3 UTF-8 bytes) sorts before U+1F600 (4 bytes), though its UTF-16 unit is larger.
    expect(compareUtf8("\uff5e", "\u{1f600}")).toBeLessThan(0);
    expect("\uff5e" < "\u{1f600}").toBe(false);
    expect(roundTrip('{"\u{1f600}":1,"\uff5e":2}')).toBe('{"\uff5e":2,"\u{1f600}":1}');
  });

  it("keeps every property, __proto__ too, and strings as JSON escapes them", () => {
    expect(roundTrip('{"__proto__":{"x":1},"s":"a\\"b\\\\c\\n\\u0001\\u00e9/"}')).toBe('{"__proto__":{"x":1},"s":"a\\"b\\\\c\\n\\u0001é/"}');
  });

  it("refuses what is not JSON, naming the offset", () => {
    expect(() => parseFlowJson('{"a":}')).toThrow(/offset 5/);
    expect(() => parseFlowJson("[1,]")).toThrow(SyntaxError);
    expect(() => parseFlowJson("01")).toThrow(/unexpected text after the value/);
    expect(() => parseFlowJson('"a')).toThrow(/unterminated string/);
  });

  it("composes a transaction's merge patches as the runtime's combiner does: later wins, nulls kept", () => {
    const p = (t: string) => parseFlowJson(t);
    expect(stringifyFlowJson(composeFlowMergePatches(p('{"a":{"x":1},"tmp":null}'), p('{"a":{"y":2}}')))).toBe('{"a":{"x":1,"y":2},"tmp":null}');
    expect(stringifyFlowJson(composeFlowMergePatches(p('{"a":{"x":1}}'), p('{"a":null}')))).toBe('{"a":null}');
    expect(stringifyFlowJson(composeFlowMergePatches(p('{"a":null}'), p('{"a":{"x":1}}')))).toBe('{"a":{"x":1}}');
    expect(stringifyFlowJson(applyFlowMergePatch(p('{"a":{"x":1,"z":3},"b":1}'), p('{"a":{"x":null,"y":2},"b":null}')))).toBe('{"a":{"y":2,"z":3}}');
  });

  it("orders values as doc::compare does: null, booleans, numbers, strings, arrays, objects", () => {
    const values = ["b", 2, null, [1], true, { a: 1 }, 10, "a", false, 12345678901234567890n].map(toFlowValue);
    expect(values.sort(compareFlowValues).map(stringifyFlowJson)).toEqual(["null", "false", "true", "2", "10", "12345678901234567890", '"a"', '"b"', "[1]", '{"a":1}']);
  });
});
