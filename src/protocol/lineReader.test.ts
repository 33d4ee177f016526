import { PassThrough, Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { LineSplitter, readLines, type LineBatch } from "./lineReader.js";
import { LineTooLongError } from "./errors.js";

function split(chunks: (string | Buffer)[], max?: number): [string, number][] {
  const s = new LineSplitter(max);
  const out: [string, number][] = [];
  const on = (l: Buffer, n: number) => out.push([l.toString(), n]);
  for (const c of chunks) s.push(Buffer.from(c), on);
  s.end(on);
  return out;
}

describe("LineSplitter", () => {
  it("splits on newlines across chunk boundaries and numbers lines from 1", () => {
    expect(split(['{"a":', '1}\n{"b"', ":2}\n"])).toEqual([
      ['{"a":1}', 1],
      ['{"b":2}', 2],
    ]);
  });

  it("tolerates CRLF", () => {
    expect(split(["one\r\ntwo\r", "\n"])).toEqual([
      ["one", 1],
      ["two", 2],
    ]);
  });

  it("keeps blank lines (skipping them is the caller's policy) and returns a last line without newline", () => {
    expect(split(["a\n\nb"])).toEqual([
      ["a", 1],
      ["", 2],
      ["b", 3],
    ]);
  });

  it("does not split multi-byte UTF-8 characters cut by a chunk boundary", () => {
    const bytes = Buffer.from("héllo😀\n");
    expect(split([bytes.subarray(0, 2), bytes.subarray(2, 7), bytes.subarray(7)])).toEqual([["héllo😀", 1]]);
  });

  it("refuses a line longer than the limit, naming its number", () => {
    expect(() => split(["ok\n", "x".repeat(11) + "\n"], 10)).toThrow(LineTooLongError);
    expect(() => split(["ok\n", "x".repeat(6), "x".repeat(6)], 10)).toThrow(/line 2 is longer than the 10-byte limit/);
    expect(split(["x".repeat(10) + "\n"], 10)).toHaveLength(1);
  });
});

/** pushBatch over the chunks: every line with its number, as `push` gives them. */
function splitBatches(chunks: (string | Buffer)[], max?: number): [string, number][] {
  const s = new LineSplitter(max);
  const out: [string, number][] = [];
  const on = (batch: LineBatch) => {
    for (let k = 0; k < batch.count; k++) out.push([batch.line(k).toString(), batch.firstLine + k]);
  };
  for (const c of chunks) s.pushBatch(Buffer.from(c), on);
  s.endBatch(on);
  return out;
}

describe("LineSplitter.pushBatch", () => {
  it("hands out the same lines, numbers and all, as push, however the input is cut", () => {
    const text = ['{"a":1}', "", "two\r", "héllo😀 wörld", "x".repeat(300), "last"].join("\n");
    const bytes = Buffer.from(text);
    for (const size of [1, 2, 3, 7, 64, 1000]) {
      const chunks: Buffer[] = [];
      for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.subarray(at, at + size));
      expect(splitBatches(chunks), `chunks of ${size}`).toEqual(split(chunks));
    }
  });

  it("holds complete lines only, each ending at a newline the batch records, in the chunk itself", () => {
    const s = new LineSplitter();
    const batches: LineBatch[] = [];
    const chunk = Buffer.from("a\nbb\nccc");
    s.pushBatch(chunk, (b) => batches.push(b));
    expect(batches).toHaveLength(1);
    expect(batches[0]!.buf.buffer).toBe(chunk.buffer); // a view: no copy
    expect([...batches[0]!.ends]).toEqual([1, 4]);
    expect(batches[0]!.bytes).toBe(5);
    s.pushBatch(Buffer.from("c\nd\n"), (b) => batches.push(b));
    // The line begun before is completed in a buffer of its own, then the chunk's own lines.
    expect(batches.slice(1).map((b) => [b.buf.toString(), b.start, [...b.ends], b.firstLine])).toEqual([
      ["cccc\n", 0, [4], 3],
      ["c\nd\n", 2, [3], 4],
    ]);
  });

  it("refuses a line longer than the limit, naming its number, after handing out the lines before it", () => {
    const got: string[] = [];
    const s = new LineSplitter(10);
    const push = (c: string) => s.pushBatch(Buffer.from(c), (b) => {
      for (let k = 0; k < b.count; k++) got.push(b.line(k).toString());
    });
    expect(() => push("ok\nfine\n" + "x".repeat(11) + "\nafter\n")).toThrow(/line 3 is longer than the 10-byte limit/);
    expect(got).toEqual(["ok", "fine"]);
    const t = new LineSplitter(10);
    t.pushBatch(Buffer.from("ok\n" + "x".repeat(6)), () => {});
    expect(() => t.pushBatch(Buffer.from("x".repeat(6)), () => {})).toThrow(/line 2 is longer than the 10-byte limit/);
    expect(splitBatches(["x".repeat(10) + "\n"], 10)).toHaveLength(1);
  });
});

describe("readLines", () => {
  it("reads a 64 MiB line", async () => {
    const big = JSON.stringify({ spec: { config: { blob: "x".repeat(64 * 1024 * 1024) } } });
    const stream = new PassThrough();
    const lines = readLines(stream);
    const first = lines.next();
    // Write in 1 MiB chunks, as a pipe would deliver it.
    for (let i = 0; i < big.length; i += 1 << 20) stream.write(big.slice(i, i + (1 << 20)));
    stream.end("\n");
    const line = await first;
    expect(line.value?.text.length).toBe(big.length);
    expect((await lines.next()).done).toBe(true);
  });

  it("yields text lines with their numbers", async () => {
    const got = [];
    for await (const line of readLines(Readable.from(["a\nb", "\nc"]))) got.push(line);
    expect(got).toEqual([
      { text: "a", number: 1 },
      { text: "b", number: 2 },
      { text: "c", number: 3 },
    ]);
  });
});
