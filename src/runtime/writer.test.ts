import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { ResponseWriter } from "./writer.js";

/** A stream that records how its writes arrive (one writev of n chunks, or single writes), and may hold them. */
function recorder(options: { hold?: boolean } = {}) {
  const calls: number[] = [];
  const held: (() => void)[] = [];
  const finish = (cb: () => void) => (options.hold ? held.push(cb) : cb());
  const stream = new Writable({
    highWaterMark: 16 * 1024,
    writev(chunks, cb) {
      calls.push(chunks.length);
      finish(cb);
    },
    write(_chunk, _encoding, cb) {
      calls.push(1);
      finish(cb);
    },
  });
  return { stream, calls, release: () => held.splice(0).forEach((cb) => cb()) };
}

describe("ResponseWriter", () => {
  it("hands a section's writes to the stream together, as one writev", async () => {
    const { stream, calls } = recorder();
    const writer = new ResponseWriter(stream);
    await writer.exclusive(async (write) => {
      for (let i = 0; i < 8; i++) await write(Buffer.alloc(16 * 1024, 0x61));
    });
    expect(calls).toEqual([8]);
  });

  it("still waits for a slow stream, past what it gathers, and calls back once each write is out", async () => {
    const { stream, calls, release } = recorder({ hold: true });
    const writer = new ResponseWriter(stream);
    const written: number[] = [];
    let done = false;
    const section = writer
      .exclusive(async (write) => {
        for (let i = 0; i < 40; i++) await write(Buffer.alloc(16 * 1024, 0x61), () => written.push(i));
      })
      .then(() => (done = true));
    await new Promise((r) => setTimeout(r, 50));
    // Gathered up to 256 KiB, then handed over, and the section waits for the stream.
    expect(done).toBe(false);
    expect(calls.reduce((a, b) => a + b, 0)).toBeLessThan(40);
    expect(written).toEqual([]);
    while (!done) {
      release();
      await new Promise((r) => setTimeout(r, 5));
    }
    release();
    await section;
    expect(written).toEqual(Array.from({ length: 40 }, (_, i) => i));
  });
});
