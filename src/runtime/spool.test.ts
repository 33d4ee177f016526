import { describe, expect, it } from "vitest";
import { Spool } from "./spool.js";

async function drain(spool: Spool): Promise<string> {
  const out: Buffer[] = [];
  await spool.drainTo(async (data) => void out.push(typeof data === "string" ? Buffer.from(data) : Buffer.from(data)));
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

describe("Spool arena reuse", () => {
  const line = (text: string) => Buffer.from(text);
  const append = (spool: Spool, text: string) => spool.appendBytes(head, line(text), 0, text.length, "", suffix);

  it("fills an arena again only once the writer says it is written, and writes the same lines", async () => {
    const spool = new Spool();
    const written: Buffer[] = [];
    const onWritten: (() => void)[] = [];
    const write = async (data: string | Buffer, done?: () => void) => {
      written.push(data as Buffer);
      if (done) onWritten.push(done);
    };
    append(spool, "first");
    await spool.drainTo(write);
    // Not yet written out (the stream still holds it): the next lines go to a new arena.
    append(spool, "second");
    await spool.drainTo(write);
    expect(written[1]!.buffer).not.toBe(written[0]!.buffer);
    expect(written[0]!.toString()).toBe("<first>\n");
    // Once written, the first arena is filled again.
    for (const done of onWritten.splice(0)) done();
    append(spool, "third");
    await spool.drainTo(write);
    expect([written[0]!.buffer, written[1]!.buffer]).toContain(written[2]!.buffer);
    expect(written[2]!.toString()).toBe("<third>\n");
  });

  it("never reuses an arena the writer keeps (no callback), so what a reader holds stays intact", async () => {
    const spool = new Spool();
    const written: Buffer[] = [];
    for (let i = 0; i < 20; i++) {
      append(spool, `line ${i}`);
      await spool.drainTo(async (data) => void written.push(data as Buffer));
    }
    expect(written.map((b) => b.toString())).toEqual(Array.from({ length: 20 }, (_, i) => `<line ${i}>\n`));
    expect(new Set(written.map((b) => b.buffer)).size).toBe(20);
  });
});
