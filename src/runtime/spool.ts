import { closeSync, openSync, readSync, unlinkSync, writeSync, ftruncateSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import type { WriteFn } from "./writer.js";

/** A task keeps up to this many bytes of pending lines in memory before it spills to a file. */
export const DEFAULT_SPOOL_MEMORY_BYTES = 8 * 1024 * 1024;
/** Pending lines are joined into strings of about this size, so stdout sees few large writes. */
const JOIN_BYTES = 256 * 1024;
const READ_CHUNK_BYTES = 1024 * 1024;
/** Written arenas kept for reuse, at most this many bytes of them (within the memory limit). */
const FREE_ARENA_BYTES = 16 * 1024 * 1024;

/**
 * The lines of one task's open checkpoint sequence, waiting to be written together with their
 * checkpoint. Like Estuary's spooled buffer: in memory up to a limit, then in a temporary file,
 * so a task may capture any number of documents between checkpoints in bounded memory.
 *
 * Sizes count UTF-16 code units, which is bytes for the ASCII that dominates JSON.
 *
 * Lines come as strings (`append`) or, for shims that pass a child's output through, as UTF-8
 * bytes copied into a byte arena (`appendBytes`), so those never become strings at all. Order
 * is kept across both kinds. Arenas are reused once written (when the writer says the stream is
 * done with them): a sequence of many megabytes then costs no fresh memory per checkpoint, which
 * the kernel would have to fault in and zero, and V8 to collect.
 */
export class Spool {
  private parts: string[] = [];
  private partsBytes = 0;
  private chunks: (string | Buffer)[] = [];
  private memoryBytes = 0;
  private arena: Buffer | undefined;
  private arenaUsed = 0;
  /** Arenas whose lines have been written, ready to be filled again. */
  private freeArenas: Buffer[] = [];
  private fd: number | undefined;
  private filePath: string | undefined;
  private fileBytes = 0;

  constructor(private readonly memoryLimitBytes = DEFAULT_SPOOL_MEMORY_BYTES) {}

  /** Bytes pending in memory and on disk. */
  get size(): number {
    return this.memoryBytes + this.partsBytes + this.arenaUsed + this.fileBytes;
  }

  append(line: string): void {
    if (this.arenaUsed > 0) this.flushArena();
    this.parts.push(line);
    this.partsBytes += line.length;
    if (this.partsBytes >= JOIN_BYTES) this.join();
  }

  /**
   * Appends one line made of the bytes `head`, the UTF-8 bytes `bytes[start, end)`, the text
   * `tail` and the bytes `suffix`, copied into the arena (no string is made of the bytes).
   */
  appendBytes(head: Uint8Array, bytes: Uint8Array, start: number, end: number, tail: string, suffix: Uint8Array): void {
    if (this.partsBytes > 0) this.join();
    const need = head.length + (end - start) + tail.length * 3 + suffix.length;
    let arena = this.arena;
    if (arena === undefined || arena.length - this.arenaUsed < need) {
      this.flushArena();
      arena = this.arena = need <= JOIN_BYTES && this.freeArenas.length > 0 ? this.freeArenas.pop()! : Buffer.allocUnsafe(Math.max(JOIN_BYTES, need));
    }
    let at = this.arenaUsed;
    arena.set(head, at);
    at += head.length;
    // TypedArray.set: on Node 20, Buffer.prototype.copy costs a call into C++ per line.
    arena.set(new Uint8Array(bytes.buffer, bytes.byteOffset + start, end - start), at);
    at += end - start;
    // Tails are short and usually ASCII: a loop beats a call into the encoder.
    const n = tail.length;
    let i = 0;
    for (; i < n; i++) {
      const c = tail.charCodeAt(i);
      if (c >= 0x80) break;
      arena[at++] = c;
    }
    if (i < n) at += arena.write(tail.slice(i), at, "utf8");
    arena.set(suffix, at);
    at += suffix.length;
    this.arenaUsed = at;
    if (at >= JOIN_BYTES) this.flushArena();
  }

  private flushArena(): void {
    if (this.arenaUsed === 0 || this.arena === undefined) return;
    this.chunks.push(this.arena.subarray(0, this.arenaUsed));
    this.memoryBytes += this.arenaUsed;
    this.arena = undefined;
    this.arenaUsed = 0;
    if (this.memoryBytes > this.memoryLimitBytes) this.spill();
  }

  private join(): void {
    if (this.parts.length === 0) return;
    const chunk = this.parts.length === 1 ? this.parts[0]! : this.parts.join("");
    this.parts = [];
    this.memoryBytes += this.partsBytes;
    this.partsBytes = 0;
    this.chunks.push(chunk);
    if (this.memoryBytes > this.memoryLimitBytes) this.spill();
  }

  private spill(): void {
    if (this.fd === undefined) {
      this.filePath = path.join(tmpdir(), `flowcap-spool-${process.pid}-${randomBytes(6).toString("hex")}`);
      this.fd = openSync(this.filePath, "w+", 0o600);
      // The file is only ever read through this descriptor: unlink it now, so it cannot outlive us.
      unlinkSync(this.filePath);
    }
    for (const chunk of this.chunks) {
      const bytes = typeof chunk === "string" ? Buffer.from(chunk, "utf8") : chunk;
      let offset = 0;
      while (offset < bytes.length) offset += writeSync(this.fd, bytes, offset, bytes.length - offset, this.fileBytes + offset);
      this.fileBytes += bytes.length;
      if (typeof chunk !== "string") this.reuse(chunk);
    }
    this.chunks = [];
    this.memoryBytes = 0;
  }

  /** Writes everything pending (file first, then memory) through `write`, then empties the spool. */
  async drainTo(write: WriteFn): Promise<void> {
    this.join();
    this.flushArena();
    if (this.fd !== undefined && this.fileBytes > 0) {
      for (let position = 0; position < this.fileBytes; ) {
        const buffer = Buffer.allocUnsafe(Math.min(READ_CHUNK_BYTES, this.fileBytes - position));
        const n = readSync(this.fd, buffer, 0, buffer.length, position);
        if (n <= 0) throw new Error(`spool file ended at ${position} of ${this.fileBytes} bytes`);
        position += n;
        await write(n === buffer.length ? buffer : buffer.subarray(0, n));
      }
      ftruncateSync(this.fd, 0);
      this.fileBytes = 0;
    }
    const chunks = this.chunks;
    this.chunks = [];
    this.memoryBytes = 0;
    for (const chunk of chunks) await write(chunk, typeof chunk === "string" ? undefined : () => this.reuse(chunk));
  }

  /** Keeps the arena of a written chunk for reuse (only whole-size arenas, up to the limit). */
  private reuse(chunk: Buffer): void {
    if (chunk.byteOffset !== 0 || chunk.buffer.byteLength !== JOIN_BYTES) return;
    if ((this.freeArenas.length + 1) * JOIN_BYTES > Math.min(FREE_ARENA_BYTES, this.memoryLimitBytes)) return;
    this.freeArenas.push(Buffer.from(chunk.buffer, 0, JOIN_BYTES));
  }

  /** Drops everything pending (the sequence will not be committed). */
  discard(): void {
    this.parts = [];
    this.partsBytes = 0;
    this.arena = undefined;
    this.arenaUsed = 0;
    this.chunks = [];
    this.memoryBytes = 0;
    if (this.fd !== undefined) ftruncateSync(this.fd, 0);
    this.fileBytes = 0;
  }

  /** Releases the spool file, if any. */
  close(): void {
    this.discard();
    this.freeArenas = [];
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
