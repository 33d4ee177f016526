import { once } from "node:events";
import { createServer, Socket, type AddressInfo } from "node:net";
import { PassThrough, Writable } from "node:stream";
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

describe("ResponseWriter onWritten", () => {
  it("says when a socket has written a buffer out, so its owner may fill it again", async () => {
    const server = createServer();
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const received: Buffer[] = [];
    server.on("connection", (peer) => peer.on("data", (chunk: Buffer) => received.push(chunk)));
    const socket = new Socket();
    socket.connect((server.address() as AddressInfo).port, "127.0.0.1");
    await once(socket, "connect");
    try {
      const writer = new ResponseWriter(socket);
      const written = new Promise<void>((resolve) => void writer.exclusive(async (write) => write(Buffer.from("line\n"), resolve)));
      await written;
      await expect.poll(() => Buffer.concat(received).toString()).toBe("line\n");
    } finally {
      socket.destroy();
      server.close();
    }
  });

  it("gives a stream that hands buffers to its reader a copy, so the owner may still fill its own again", async () => {
    const stream = new PassThrough();
    const chunks: Buffer[] = [];
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    const writer = new ResponseWriter(stream);
    let called = false;
    const buffer = Buffer.from("line\n");
    await writer.exclusive(async (write) => write(buffer, () => (called = true)));
    await writer.flushed();
    await new Promise((resolve) => setImmediate(resolve));
    expect(chunks).toEqual([buffer]);
    expect(chunks[0]).not.toBe(buffer); // the reader holds a copy: refilling the buffer cannot corrupt what it read
    expect(called).toBe(true);
    buffer.fill(0x7a);
    expect(chunks[0]?.toString()).toBe("line\n");
  });
});
