import { describe, expect, it } from "vitest";
import { CopyDataTap } from "../src/api/copyTap.js";

/**
 * The tap walks the backend's messages as the socket reads them, hands CopyData payloads to the
 * sink and passes everything else to pg's parser: whatever the reads' boundaries, pg must see
 * exactly the other messages' bytes, in order, and every row must reach the sink whole, after the
 * messages before it and before those after it.
 */

function message(type: string, payload: Buffer | string): Buffer {
  const body = typeof payload === "string" ? Buffer.from(payload) : payload;
  const head = Buffer.alloc(5);
  head[0] = type.charCodeAt(0);
  head.writeUInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

/** A simple query's answer around a COPY of `rows`, then a later query's, whose CopyData pg must get. */
function conversation(rows: string[]): { bytes: Buffer; passed: Buffer; rows: string[] } {
  const before = [message("T", "described columns"), message("C", "SELECT 0\0"), message("H", Buffer.from([0, 0, 2, 0, 0, 0, 0]))];
  const copy = rows.map((r) => message("d", r));
  const after = [message("c", ""), message("C", `COPY ${rows.length}\0`), message("Z", "I")];
  // After ReadyForQuery the sink is gone: a later COPY's rows are pg's.
  const later = [message("H", Buffer.from([0, 0, 0])), message("d", "pg's row\n"), message("c", ""), message("Z", "I")];
  return { bytes: Buffer.concat([...before, ...copy, ...after, ...later]), passed: Buffer.concat([...before, ...after, ...later]), rows };
}

/** Feeds `bytes` to a tap in reads of the given sizes; returns what pg got and what the sink got, with pg's count at each row. */
function feed(bytes: Buffer, sizes: number[]): { passed: Buffer; rows: string[]; passedBeforeRow: number[] } {
  const tap = new CopyDataTap();
  const passed: Buffer[] = [];
  let passedBytes = 0;
  const rows: string[] = [];
  const passedBeforeRow: number[] = [];
  tap.sink = {
    rows(buf, starts, ends, count) {
      for (let i = 0; i < count; i++) {
        rows.push(buf.toString("utf8", starts[i], ends[i]));
        passedBeforeRow.push(passedBytes);
      }
    },
  };
  // pg's side: frames what it gets, and ends the COPY's query at its ReadyForQuery (as CopyStream does).
  let framing = Buffer.alloc(0);
  tap.parserSide.on("data", (chunk: Buffer) => {
    passed.push(Buffer.from(chunk));
    passedBytes += chunk.length;
    framing = Buffer.concat([framing, chunk]);
    while (framing.length >= 5 && framing.length >= 1 + framing.readUInt32BE(1)) {
      if (framing[0] === 0x5a) tap.sink = undefined;
      framing = framing.subarray(1 + framing.readUInt32BE(1));
    }
  });
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    const size = sizes[i % sizes.length]!;
    // Each read its own buffer, as the socket gives them.
    tap.push(Buffer.from(bytes.subarray(at, at + size)));
    at += size;
  }
  return { passed: Buffer.concat(passed), rows, passedBeforeRow };
}

describe("CopyDataTap", () => {
  const rows = ["1\tone\n", "2\t" + "x".repeat(300) + "\n", "3\t\\N\n", "", "4\té\n"];
  const { bytes, passed, rows: expectedRows } = conversation(rows);
  // pg had the three messages before the COPY's rows when each row arrived.
  const beforeRows = passed.indexOf(message("c", ""));

  it("hands every row to the sink and every other message to pg, whole reads", () => {
    const out = feed(bytes, [bytes.length]);
    expect(out.rows).toEqual(expectedRows);
    expect(out.passed.equals(passed)).toBe(true);
    expect(out.passedBeforeRow).toEqual(rows.map(() => beforeRows));
  });

  it("does the same whatever the reads' boundaries (every split point, and one byte at a time)", () => {
    const sizes: number[][] = [[1], [2], [3], [4], [5], [6], [7], [64]];
    for (let split = 1; split < bytes.length; split++) sizes.push([split, bytes.length]);
    for (const s of sizes) {
      const out = feed(bytes, s);
      expect(out.rows, `reads of ${s.join(", ")}`).toEqual(expectedRows);
      expect(out.passed.equals(passed), `reads of ${s.join(", ")}`).toBe(true);
      expect(out.passedBeforeRow, `reads of ${s.join(", ")}`).toEqual(rows.map(() => beforeRows));
    }
  });

  it("gives pg everything, unchanged, while no sink is set", () => {
    const tap = new CopyDataTap();
    const got: Buffer[] = [];
    tap.parserSide.on("data", (c: Buffer) => got.push(Buffer.from(c)));
    for (let at = 0; at < bytes.length; at += 7) tap.push(Buffer.from(bytes.subarray(at, at + 7)));
    expect(Buffer.concat(got).equals(bytes)).toBe(true);
  });
});
