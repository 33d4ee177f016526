import { PassThrough, Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { LineSplitter, readLines } from "./lineReader.js";
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
