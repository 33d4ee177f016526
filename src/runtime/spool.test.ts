import { describe, expect, it } from "vitest";
import { Spool, SpoolBudget, SPOOL_BLOCK_BYTES } from "./spool.js";

async function drain(spool: Spool): Promise<string> {
  const out: Buffer[] = [];
  await spool.drainTo(async (data, onWritten) => {
    out.push(Buffer.from(data));
    onWritten?.();
  });
  return Buffer.concat(out).toString("utf8");
}

const head = Buffer.from("<");
const suffix = Buffer.from(">\n");

describe("Spool.appendBytes", () => {
  it("keeps lines in order across string and byte appends, copying only the range given", async () => {
    const spool = new Spool();
    const line = Buffer.from('xx{"a":"é"}yy');
    spool.append("one\n");
    spool.appendBytes(head, line, 2, 12, ",tail", suffix);
    spool.append("two\n");
    spool.appendBytes(head, line, 2, 12, "", suffix);
    spool.appendBytes(head, line, 2, 12, "·ü", suffix); // a tail that is not ASCII
    expect(spool.size).toBeGreaterThan(0);
    expect(await drain(spool)).toBe('one\n<{"a":"é"},tail>\ntwo\n<{"a":"é"}>\n<{"a":"é"}·ü>\n');
    expect(spool.size).toBe(0);
  });

  it("handles a line larger than its arena, and spills to disk past the memory limit, in order", async () => {
    const spool = new Spool(64 * 1024);
    const big = Buffer.alloc(600 * 1024, 0x61);
    const expected: string[] = [];
    for (let i = 0; i < 40; i++) {
      const text = `{"n":${i},"pad":"${"p".repeat(20_000)}"}`;
      spool.appendBytes(head, Buffer.from(text), 0, text.length, "", suffix);
      expected.push(`<${text}>\n`);
      if (i === 20) {
        spool.appendBytes(head, big, 0, big.length, "", suffix);
        expected.push(`<${"a".repeat(big.length)}>\n`);
        spool.append("string line\n");
        expected.push("string line\n");
      }
    }
    expect(await drain(spool)).toBe(expected.join(""));
    spool.close();
  });

  it("drops byte lines on discard", async () => {
    const spool = new Spool();
    spool.appendBytes(head, Buffer.from("{}"), 0, 2, "", suffix);
    spool.discard();
    expect(spool.size).toBe(0);
    expect(await drain(spool)).toBe("");
  });
});

describe("Spool.appendInPlace", () => {
  const prefix = Buffer.from('{"captured":{"doc":');
  /** A buffer of lines and where each line and its `data` object lie. */
  function linesOf(texts: string[]) {
    const buf = Buffer.from(texts.map((t) => t + "\n").join(""));
    let at = 0;
    const lines = texts.map((t) => {
      const start = at;
      at += Buffer.byteLength(t) + 1;
      const dataStart = start + Buffer.from(t).indexOf("{", Buffer.from(t).indexOf('"data":'));
      return { start, limit: at, dataStart, dataEnd: start + Buffer.from(t).lastIndexOf("}", Buffer.from(t).lastIndexOf(",")) + 1 };
    });
    return { buf, lines };
  }
  const envelope = (data: string) => `{"type": "RECORD", "record": {"stream": "users", "data": ${data}, "emitted_at": 1714564800000}}`;

  it("builds each captured line where its line lay, one after the other, with _meta added", async () => {
    const spool = new Spool();
    const { buf, lines } = linesOf([envelope('{"id": 1, "name": "é"}'), envelope("{ }"), envelope('{"id": 3}')]);
    lines.forEach((l, i) => spool.appendInPlace(prefix, buf, l.start, l.limit, l.dataStart, l.dataEnd - 1, i !== 1, 0x75, i === 2 ? 9_007_199_254_740_991 : i));
    expect(await drain(spool)).toBe(
      '{"captured":{"doc":{"id": 1, "name": "é","_meta":{"op":"u","row_id":0}}}}\n' +
        '{"captured":{"doc":{ "_meta":{"op":"u","row_id":1}}}}\n' +
        '{"captured":{"doc":{"id": 3,"_meta":{"op":"u","row_id":9007199254740991}}}}\n',
    );
  });

  it("copies a line that does not fit where it lay, and keeps the order with every other kind of line", async () => {
    const spool = new Spool();
    // A bare data line has no envelope to give: the captured line is longer than it.
    const { buf, lines } = linesOf([envelope('{"a": 1}'), '{"data":{"b":2},}', envelope('{"c": 3}')]);
    spool.append("first\n");
    spool.appendInPlace(prefix, buf, lines[0]!.start, lines[0]!.limit, lines[0]!.dataStart, lines[0]!.dataEnd - 1, true, 0x75, 1);
    spool.appendInPlace(prefix, buf, lines[1]!.start, lines[1]!.limit, lines[1]!.dataStart, lines[1]!.dataEnd - 1, true, 0x64, 2);
    spool.appendBytes(head, Buffer.from("{}"), 0, 2, "", suffix);
    spool.appendInPlace(prefix, buf, lines[2]!.start, lines[2]!.limit, lines[2]!.dataStart, lines[2]!.dataEnd - 1, true, 0x75, 3);
    spool.append("last\n");
    expect(await drain(spool)).toBe(
      "first\n" +
        '{"captured":{"doc":{"a": 1,"_meta":{"op":"u","row_id":1}}}}\n' +
        '{"captured":{"doc":{"b":2,"_meta":{"op":"d","row_id":2}}}}\n' +
        "<{}>\n" +
        '{"captured":{"doc":{"c": 3,"_meta":{"op":"u","row_id":3}}}}\n' +
        "last\n",
    );
  });

  it("uses what earlier lines left over, and never writes past the line handed over", async () => {
    const spool = new Spool();
    const texts = [envelope('{"a": 1}').replace("users", "users-of-a-stream-with-a-long-name"), '{"data":{"b":2}}', "the next line, not handed over"];
    const { buf, lines } = linesOf(texts);
    const untouched = buf.toString("utf8", lines[2]!.start);
    // The second line alone is too short, but follows on from the first, which gave room.
    spool.appendInPlace(prefix, buf, lines[0]!.start, lines[0]!.limit, lines[0]!.dataStart, lines[0]!.dataEnd - 1, true, 0x75, 1);
    spool.appendInPlace(prefix, buf, lines[1]!.start, lines[1]!.limit, lines[1]!.start + 8, lines[1]!.start + 14, true, 0x75, 2);
    expect(buf.toString("utf8", lines[2]!.start)).toBe(untouched);
    const built = '{"captured":{"doc":{"a": 1,"_meta":{"op":"u","row_id":1}}}}\n{"captured":{"doc":{"b":2,"_meta":{"op":"u","row_id":2}}}}\n';
    expect(buf.toString("utf8", 0, built.length)).toBe(built); // in place, not copied
    expect(await drain(spool)).toBe(built);
  });
});

describe("SpoolBudget", () => {
  const line = (i: number, pad = 1000) => `{"n":${i},"pad":"${"p".repeat(pad)}"}\n`;

  it("keeps what all spools hold in memory within one budget, spilling to one file, in order for each spool", async () => {
    const budget = new SpoolBudget(256 * 1024);
    const spools = Array.from({ length: 50 }, () => new Spool(budget));
    const expected = spools.map(() => [] as string[]);
    let peak = 0;
    for (let i = 0; i < 200; i++) {
      for (const [s, spool] of spools.entries()) {
        spool.append(line(i));
        expected[s]!.push(line(i));
      }
      peak = Math.max(peak, budget.usedBytes);
    }
    // Over the budget, spools write through the one staging block: however many there are.
    expect(peak).toBeLessThanOrEqual(256 * 1024 + SPOOL_BLOCK_BYTES);
    expect(budget.spillFile.pageCount).toBeGreaterThan(0);
    for (const [s, spool] of spools.entries()) expect(await drain(spool)).toBe(expected[s]!.join(""));
    expect(budget.usedBytes).toBe(0);
    // Every page was given back: the file was emptied.
    expect(budget.spillFile.pageCount).toBe(0);
    budget.close();
  });

  it("reuses spilled pages, so the file does not grow from checkpoint to checkpoint", async () => {
    const budget = new SpoolBudget(64 * 1024);
    const spool = new Spool(budget);
    const other = new Spool(budget);
    // Holds spilled pages for the whole test: the file is never emptied.
    const held = Array.from({ length: 200 }, (_, i) => line(i)).join("");
    for (let i = 0; i < 200; i++) other.append(line(i));
    expect(budget.spillFile.pageCount).toBeGreaterThan(0);
    let pages = 0;
    const all = Array.from({ length: 300 }, (_, i) => line(i)).join("");
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 300; i++) spool.append(line(i));
      if (round === 0) pages = budget.spillFile.pageCount;
      expect(await drain(spool)).toBe(all);
      expect(budget.spillFile.pageCount).toBe(pages);
    }
    expect(await drain(other)).toBe(held);
    budget.close();
  });

  it("counts a block as held until the stream is done with it, then reuses it", async () => {
    const budget = new SpoolBudget(1 << 20);
    const spool = new Spool(budget);
    spool.append("one\n");
    const pending: { data: Buffer; onWritten: () => void }[] = [];
    await spool.drainTo(async (data, onWritten) => void pending.push({ data: data as Buffer, onWritten: onWritten! }));
    expect(budget.usedBytes).toBe(SPOOL_BLOCK_BYTES);
    spool.append("two\n"); // a block of its own: the first is still being written
    expect(pending[0]!.data.toString()).toBe("one\n");
    expect(budget.usedBytes).toBe(2 * SPOOL_BLOCK_BYTES);
    pending[0]!.onWritten();
    expect(budget.usedBytes).toBe(SPOOL_BLOCK_BYTES);
    expect(await drain(spool)).toBe("two\n");
    expect(budget.usedBytes).toBe(0);
  });

  it("gives back what a discarded spool held", () => {
    const budget = new SpoolBudget(16 * 1024);
    const spool = new Spool(budget);
    for (let i = 0; i < 100; i++) spool.append(line(i));
    spool.discard();
    expect(budget.usedBytes).toBe(0);
    expect(budget.spillFile.pageCount).toBe(0);
    budget.close();
  });
});
