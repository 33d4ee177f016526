import { once } from "node:events";
import { createServer, Socket, type AddressInfo } from "node:net";
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { ResponseWriter } from "./writer.js";

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
      const written = new Promise<void>((resolve) => void writer.exclusive((write) => write(Buffer.from("line\n"), resolve)));
      await written;
      await expect.poll(() => Buffer.concat(received).toString()).toBe("line\n");
    } finally {
      socket.destroy();
      server.close();
    }
  });

  it("never calls it for a stream that hands the buffer itself to its reader", async () => {
    const stream = new PassThrough();
    const chunks: Buffer[] = [];
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    const writer = new ResponseWriter(stream);
    let called = false;
    const buffer = Buffer.from("line\n");
    await writer.exclusive((write) => write(buffer, () => (called = true)));
    await writer.flushed();
    await new Promise((resolve) => setImmediate(resolve));
    expect(chunks).toEqual([buffer]);
    expect(chunks[0]).toBe(buffer); // the reader holds the very buffer: reusing it would corrupt what it read
    expect(called).toBe(false);
  });
});
