import { describe, expect, it } from "vitest";
import { compareKeys, decodeKey, encodeKey, type KeyKind } from "../src/keys.js";
import { transcodeArray, fixUnpairedSurrogates } from "../src/values.js";

const b64 = (kinds: KeyKind[], values: (string | null)[]) => encodeKey(kinds, values).toString("base64");

describe("row keys (FoundationDB tuples, as Estuary's state holds them)", () => {
  it("encodes Estuary's examples byte for byte", () => {
    // From reference §6.5 and Estuary's snapshots.
    expect(b64(["int"], ["1"])).toBe("FQE=");
    expect(encodeKey(["int"], ["-1"])).toEqual(Buffer.from([0x13, 0xfe]));
    expect(b64(["int"], ["50000"])).toBe("FsNQ");
    expect(b64(["string", "int"], ["B", "4"])).toBe("AkIAFQQ=");
  });

  it("orders encoded keys as the database orders the values", () => {
    const ints = ["-9223372036854775808", "-65536", "-256", "-255", "-1", "0", "1", "255", "256", "65535", "9223372036854775807"];
    const numerics = ["-1000.5", "-100", "-99.99", "-1", "-0.001", "0", "0.001", "0.0041", "1", "3.14", "10", "99.5", "100"];
    const floats = ["-Infinity", "-1e+20", "-1.5", "0", "1.5", "2", "1e+20", "Infinity"];
    const stamps = ["2024-01-15 06:30:00-08", "2024-01-15 15:00:00+00", "2024-05-15 02:30:00-07"];
    for (const [kind, values] of [["int", ints], ["numeric", numerics], ["float8", floats], ["timestamptz", stamps]] as const) {
      const keys = values.map((v) => encodeKey([kind], [v]));
      for (let i = 1; i < keys.length; i++) expect(compareKeys(keys[i - 1]!, keys[i]!), `${kind} ${values[i - 1]} < ${values[i]}`).toBeLessThan(0);
    }
  });

  it("decodes back to query parameters, numerics and bytes included", () => {
    const kinds: KeyKind[] = ["int", "string", "numeric", "numeric", "bool", "bytea", "float8"];
    const values = ["-42", "a\u0000b", "-123.4500", "0.00012", "t", "\\xdead00ef", "1.5"];
    expect(decodeKey(encodeKey(kinds, values))).toEqual(values);
  });
});

describe("values", () => {
  it("flattens array literals, quoted elements, NULLs and dimension decorations", () => {
    const q = (t: string) => JSON.stringify(t);
    expect(transcodeArray("{{1,2},{3,4}}", (t) => t, ",")).toBe("[1,2,3,4]");
    expect(transcodeArray('{"a b","c\\"d",NULL,e}', q, ",")).toBe('["a b","c\\"d",null,"e"]');
    expect(transcodeArray("[0:1]={7,8}", (t) => t, ",")).toBe("[7,8]");
    expect(transcodeArray("{}", (t) => t, ",")).toBe("[]");
  });

  it("replaces unpaired surrogate escapes in json, as Estuary does", () => {
    expect(fixUnpairedSurrogates('{"a":"\\uD83D\\u200B\\uDE14"}')).toBe('{"a":"\\uFFFD\\u200B\\uFFFD"}');
    expect(fixUnpairedSurrogates('{"a":"\\uD83D\\uDE14"}')).toBe('{"a":"\\uD83D\\uDE14"}');
  });
});
