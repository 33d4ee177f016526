import { describe, expect, it } from "vitest";
import { getPointer } from "../../util/jsonPointer.js";
import { JsonArraySplitter, streamJsonArray } from "./jsonArrayStream.js";

/** Splits `text` into chunks at seeded pseudo-random byte offsets (multi-byte characters included). */
function chunked(text: string, seed: number, maxChunk = 7): Buffer[] {
  const bytes = Buffer.from(text, "utf8");
  const out: Buffer[] = [];
  let state = seed;
  for (let i = 0; i < bytes.length; ) {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    const size = 1 + (state % maxChunk);
    out.push(bytes.subarray(i, i + size));
    i += size;
  }
  return out;
}

async function collect(chunks: Iterable<Buffer | string>, pointer?: string): Promise<{ items: unknown[]; rest: unknown }> {
  const items: unknown[] = [];
  const gen = streamJsonArray(
    (async function* () {
      yield* chunks;
    })(),
    pointer === undefined ? {} : { pointer },
  );
  for (;;) {
    const r = await gen.next();
    if (r.done) return { items, rest: r.value };
    items.push(r.value);
  }
}

const tricky = [
  { id: 1, s: 'quote " and backslash \\ and \\" both', nested: { a: [1, [2, [3]]], b: {} } },
  "a string item with ] and } and , inside",
  42,
  -1.5e-3,
  true,
  null,
  [],
  {},
  { emoji: "😀 — ü", escaped: "\\\\", tail: "ends with backslash \\" },
  [{ deep: [{ deeper: ["x", ",", "]"] }] }],
];

describe("streamJsonArray", () => {
  it("yields the items of a top-level array exactly as JSON.parse reads them, whatever the chunk boundaries", async () => {
    const text = JSON.stringify(tricky, null, 1);
    for (let seed = 1; seed <= 200; seed++) {
      const { items } = await collect(chunked(text, seed));
      expect(items).toEqual(tricky);
    }
  });

  it("finds the array at a pointer inside an object and returns the rest of the document", async () => {
    const doc = {
      meta: { page: 1, "data": "not this one", list: [{ data: [9] }] },
      "a/b": { "c~d": [{ x: 1 }, { x: 2 }] },
      data: tricky,
      next_cursor: "c2",
      more: [true, { data: [] }],
    };
    const text = JSON.stringify(doc);
    for (let seed = 1; seed <= 100; seed++) {
      const { items, rest } = await collect(chunked(text, seed, 13), "/data");
      expect(items).toEqual(tricky);
      expect(rest).toEqual({ ...doc, data: [] });
      expect(getPointer(rest, "/next_cursor")).toBe("c2");
    }
    expect((await collect([text], "/a~1b/c~0d")).items).toEqual([{ x: 1 }, { x: 2 }]);
    expect((await collect([text], "/meta/list/0/data")).items).toEqual([9]);
  });

  it("handles empty arrays, whitespace and a null array", async () => {
    expect((await collect(["  [ ]  "])).items).toEqual([]);
    expect((await collect(["[", "]"])).items).toEqual([]);
    expect((await collect(['{"data":[],"n":1}'], "/data")).rest).toEqual({ data: [], n: 1 });
    expect((await collect(['{"data":null}'], "/data")).items).toEqual([]);
    expect((await collect(["\n[\n 1 ,\r\n\t2\n]\n"])).items).toEqual([1, 2]);
  });

  it("fails clearly on a missing array, a value that is not an array, bad JSON and a truncated body", async () => {
    await expect(collect(['{"items":[1]}'], "/data")).rejects.toThrow(/no array at \/data/);
    await expect(collect(['{"data":{"a":1}}'], "/data")).rejects.toThrow(/expected an array at \/data, found an object/);
    await expect(collect(['[{"a":1},{"a":}]'])).rejects.toThrow(/an item of the array at the top level is not valid JSON/);
    await expect(collect(['[{"a":1},{"a":2'])).rejects.toThrow(/ended early .* inside the array/);
    await expect(collect(['{"data":[1]'], "/data")).rejects.toThrow(/ended early/);
    await expect(collect(["[1] x"])).rejects.toThrow(/after the end of the JSON document/);
  });

  it("refuses an item larger than maxItemBytes instead of holding it", () => {
    const splitter = new JsonArraySplitter({ maxItemBytes: 100 });
    splitter.push(Buffer.from('[{"a":"'));
    expect(() => {
      for (let i = 0; i < 10; i++) splitter.push(Buffer.from("x".repeat(20)));
    }).toThrow(/longer than 100 bytes/);
  });

  it("holds about one chunk and one item, not the document", () => {
    const splitter = new JsonArraySplitter({ pointer: "/data" });
    splitter.push(Buffer.from('{"data":['));
    let n = 0;
    for (let i = 0; i < 10_000; i++) n += splitter.push(Buffer.from(JSON.stringify({ i, pad: "x".repeat(100) }) + ",")).length;
    n += splitter.push(Buffer.from('{"i":-1}],"next":null}')).length;
    splitter.end();
    expect(n).toBe(10_001);
    expect((splitter as unknown as { carryBytes: number }).carryBytes).toBe(0);
    expect(splitter.remainder).toEqual({ data: [], next: null });
  });
});
