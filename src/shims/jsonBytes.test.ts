import { describe, expect, it } from "vitest";
import { arrayItems, metaTail, objectMembers, skipComposite, skipValue, tokenIsCaseless, TokenCache, valueAt } from "./jsonBytes.js";

const b = (text: string) => Buffer.from(text);
const text = (buf: Buffer, [s, e]: [number, number]) => buf.toString("utf8", s, e);

describe("skipComposite and skipValue", () => {
  it("skip exactly one value, at any depth, and refuse broken structure", () => {
    const deep = "[".repeat(100) + '{"a":"]}"}' + "]".repeat(100);
    expect(skipComposite(b(deep + " tail"), 0)).toBe(deep.length);
    expect(skipComposite(b("[".repeat(100) + "]".repeat(99) + "}"), 0)).toBe(-1);
    expect(skipComposite(b('{"a":[1,2}'), 0)).toBe(-1);
    expect(skipComposite(b('{"a":"unterminated}'), 0)).toBe(-1);
    expect(skipComposite(b('{"a":undefined}'), 0)).toBe(-1);
    expect(skipValue(b("12345678901234567890,"), 0)).toBe(20);
    expect(skipValue(b('"x\\"y" '), 0)).toBe(6);
    expect(skipValue(b(""), 0)).toBe(-1);
  });

  it("notes a top-level _meta key, and only a top-level one", () => {
    const flag = { hasMeta: false };
    skipComposite(b('{"a":{"_meta":1}}'), 0, flag);
    expect(flag.hasMeta).toBe(false);
    skipComposite(b('{"a":1,"_meta":{"x":1}}'), 0, flag);
    expect(flag.hasMeta).toBe(true);
  });
});

describe("objectMembers", () => {
  it("locates each member's value, decoding keys with escapes, and the object's end", () => {
    const line = b('  {"type": "STATE", "va\\u006cue" : {"n": 12345678901234567890}, "x":[1,{"y":null}]} ');
    const got = objectMembers(line, 0)!;
    expect(got.members.map((m) => [m.key, line.toString("utf8", m.valueStart, m.valueEnd)])).toEqual([
      ["type", '"STATE"'],
      ["value", '{"n": 12345678901234567890}'],
      ["x", '[1,{"y":null}]'],
    ]);
    expect(line.toString("utf8", got.end)).toBe(" ");
    expect(objectMembers(b("{}"), 0)).toEqual({ members: [], end: 2 });
  });

  it("refuses what is not a well-formed object", () => {
    for (const t of ["[]", '{"a":1', '{"a" 1}', '{"a":1,}', "not json", '{"a":1 "b":2}', ""]) expect(objectMembers(b(t), 0), t).toBeUndefined();
  });
});

describe("arrayItems and valueAt", () => {
  it("split arrays and follow JSON pointer tokens through objects and arrays", () => {
    const doc = b('{"id": 12345678901234567890, "nested": {"k": ["a", {"deep": "v\\"w"}]}, "k\\u0032": 2}');
    expect(text(doc, valueAt(doc, 0, doc.length, ["id"])!)).toBe("12345678901234567890");
    expect(text(doc, valueAt(doc, 0, doc.length, ["nested", "k", "1", "deep"])!)).toBe('"v\\"w"');
    expect(text(doc, valueAt(doc, 0, doc.length, ["k2"])!)).toBe("2");
    expect(valueAt(doc, 0, doc.length, ["missing"])).toBeUndefined();
    expect(valueAt(doc, 0, doc.length, ["nested", "k", "7"])).toBeUndefined();
    expect(valueAt(doc, 0, doc.length, ["id", "x"])).toBeUndefined();
    const arr = b('[1, "two", [3], {"f": 4}]');
    expect(arrayItems(arr, 0)!.map((s) => text(arr, s))).toEqual(["1", '"two"', "[3]", '{"f": 4}']);
    expect(arrayItems(b("[]"), 0)).toEqual([]);
    expect(arrayItems(b("[1,"), 0)).toBeUndefined();
  });
});

describe("tokenIsCaseless, TokenCache, metaTail", () => {
  it("matches message types in any case", () => {
    for (const t of ['"RECORD"', '"record"', '"Record"']) expect(tokenIsCaseless(b(t), 0, t.length, "RECORD")).toBe(true);
    expect(tokenIsCaseless(b('"RECORDS"'), 0, 9, "RECORD")).toBe(false);
    expect(tokenIsCaseless(b('"ACTIVATE_VERSION"'), 0, 18, "ACTIVATE_VERSION")).toBe(true);
  });

  it("decodes a repeated token once", () => {
    const cache = new TokenCache();
    const line = b('"users" "users" "us\\u0065rs" "é"');
    expect(cache.decode(line, 0, 7)).toBe("users");
    expect(cache.decode(line, 8, 15)).toBe("users");
    expect(cache.decode(line, 16, 28)).toBe("users");
    expect(cache.decode(line, 29, line.length)).toBe("é");
  });

  it("closes an object with _meta, empty or not", () => {
    expect(metaTail(b('{"a":1 }'), 0, 8, "{}")).toBe(',"_meta":{}}');
    expect(metaTail(b("{ \n}"), 0, 4, "{}")).toBe('"_meta":{}}');
  });
});
