import { SPILL_PAGE_BYTES, SpillFile } from "./spillFile.js";
import type { WriteFn } from "./writer.js";

/**
 * The bytes of pending lines a process keeps in memory, across all its tasks, before spools
 * spill to disk (ServeOptions.spoolMemoryBytes).
 */
export const DEFAULT_SPOOL_MEMORY_BYTES = 16 * 1024 * 1024;
/** A spool's first byte arena; each one it fills is followed by one twice as large, up to MAX_ARENA_BYTES. */
const MIN_ARENA_BYTES = 16 * 1024;
/** The largest arena, so stdout sees few large writes from a busy task. */
const MAX_ARENA_BYTES = 256 * 1024;
/**
 * Over the budget, a spool spills once it holds this much: a thousand spools holding a few
 * documents each do not each write a file page per document.
 */
const MIN_SPILL_BYTES = 16 * 1024;

/** `,"_meta":{"op":"` and `"_meta":{"op":"`: the start of the `_meta` that appendInPlace adds. */
const META_OPEN = [Buffer.from('"_meta":{"op":"', "latin1"), Buffer.from(',"_meta":{"op":"', "latin1")] as const;
/** `","row_id":` */
const ROW_ID = Buffer.from('","row_id":', "latin1");
/** `}}` closing `_meta` and the document, then the captured line's `}}\n`. */
const CLOSE = Buffer.from("}}}}\n", "latin1");
const EMPTY = Buffer.alloc(0);

/**
 * What the spools of one process may keep in memory together: past `limitBytes`, a spool that
 * grows spills what it holds to the process's one spill file. One budget, not one per task, so
 * memory stays bounded whatever the number of tasks (a capture of a thousand bindings whose
 * reader stalls holds at most this, plus less than MIN_SPILL_BYTES per spool).
 */
export class SpoolBudget {
  /** Bytes the spools hold in memory. */
  usedBytes = 0;
  readonly spillFile = new SpillFile();

  constructor(readonly limitBytes = DEFAULT_SPOOL_MEMORY_BYTES) {}

  /** Closes the spill file. */
  close(): void {
    this.spillFile.close();
  }
}

/**
 * The lines of one task's open checkpoint sequence, waiting to be written together with their
 * checkpoint. Like Estuary's spooled buffer: in memory within the process's budget, then in a
 * temporary file, so tasks may capture any number of documents between checkpoints in bounded
 * memory.
 *
 * Lines are kept as UTF-8 bytes, never as strings: text is encoded once, into a byte arena
 * (`append`, `appendJson`), which stdout then writes as it is; a shim's bytes are copied there
 * (`appendBytes`) or, better, built in place in a buffer of lines it hands over
 * (`appendInPlace`: the shims rewrite a child's RECORD lines into `captured` lines where they
 * lie, and the spool keeps views of the buffer). Order is kept across all of them. An arena
 * outlives the sequences written from it: the next sequence goes on after them in the same one.
 */
export class Spool {
  /** Finished parts of the sequence, in order (views of arenas and of buffers built in place). */
  private chunks: Buffer[] = [];
  /** Bytes this spool holds in memory (counted in the budget). */
  private memoryBytes = 0;
  // The arena being written: `arena[arenaStart, arenaUsed)` is pending, what is before it written.
  private arena: Buffer = EMPTY;
  private arenaStart = 0;
  private arenaUsed = 0;
  private nextArenaBytes = MIN_ARENA_BYTES;
  // The region being built in place: `regionBuf[regionStart, writeAt)` holds finished lines;
  // `regionLimit` is the end of the last line handed over (bytes up to it may be overwritten).
  private regionBuf: Buffer | undefined;
  private regionStart = 0;
  private writeAt = 0;
  private regionLimit = -1;
  // What was spilled: whole pages, the last one filled to `lastPageBytes`.
  private pages: number[] = [];
  private lastPageBytes = SPILL_PAGE_BYTES;
  private fileBytes = 0;
  private readonly budget: SpoolBudget;
  private readonly ownBudget: boolean;

  /** @param budget The process's budget; a number makes a budget of that many bytes for this spool alone. */
  constructor(budget: SpoolBudget | number = DEFAULT_SPOOL_MEMORY_BYTES) {
    this.ownBudget = typeof budget === "number";
    this.budget = typeof budget === "number" ? new SpoolBudget(budget) : budget;
  }

  /** Bytes pending in memory and on disk. */
  get size(): number {
    return this.memoryBytes + this.fileBytes;
  }

  /** Appends a line of text (its newline included). */
  append(line: string): void {
    const need = line.length * 3;
    const at = need <= MAX_ARENA_BYTES ? this.room(need) : this.room(Buffer.byteLength(line));
    const written = this.arena.write(line, at);
    this.arenaUsed = at + written;
    this.grew(written);
  }

  /** Appends the line `head`, then the JSON text `json`, then `suffix`: encoded once, never concatenated. */
  appendJson(head: Uint8Array, json: string, suffix: Uint8Array): void {
    const need = head.length + json.length * 3 + suffix.length;
    let at = need <= MAX_ARENA_BYTES ? this.room(need) : this.room(head.length + Buffer.byteLength(json) + suffix.length);
    const arena = this.arena;
    const from = at;
    arena.set(head, at);
    at += head.length;
    at += arena.write(json, at);
    arena.set(suffix, at);
    at += suffix.length;
    this.arenaUsed = at;
    this.grew(at - from);
  }

  /**
   * Appends one line made of the bytes `head`, the UTF-8 bytes `bytes[start, end)`, the text
   * `tail` and the bytes `suffix`, copied into the arena (no string is made of the bytes).
   */
  appendBytes(head: Uint8Array, bytes: Uint8Array, start: number, end: number, tail: string, suffix: Uint8Array): void {
    let at = this.room(head.length + (end - start) + tail.length * 3 + suffix.length);
    const arena = this.arena;
    const from = at;
    arena.set(head, at);
    at += head.length;
    arena.set(start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end), at);
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
    this.grew(at - from);
  }

  /**
   * Appends the `captured` line of a document that lies in a buffer of lines the caller hands
   * over: `head` (the binding's `{"captured":...,"doc":`), the document's bytes
   * `buf[dataStart, dataClose)` (an object without its closing brace), `"_meta":{"op":"<op>",
   * "row_id":<rowId>}` (after a comma unless `comma` is false, for an empty object), then the
   * braces that close it all. The line is built in place over `buf[lineStart, lineLimit)`, the
   * line that held the document (its newline included), right after the line built from the
   * line before it when that one was handed over too; the caller must not use those bytes
   * again. When it does not fit there (a document whose envelope was shorter than what Flow's
   * line adds), it is copied instead.
   */
  appendInPlace(head: Uint8Array, buf: Buffer, lineStart: number, lineLimit: number, dataStart: number, dataClose: number, comma: boolean, op: number, rowId: number): void {
    if (buf !== this.regionBuf || lineStart !== this.regionLimit) {
      if (this.regionBuf !== undefined) this.closeRegion();
      this.flushArena();
      this.regionBuf = buf;
      this.regionStart = this.writeAt = lineStart;
    }
    let digits = 1;
    for (let x = rowId; x >= 10; x = Math.floor(x / 10)) digits++;
    const open = META_OPEN[comma ? 1 : 0];
    const dataBytes = dataClose - dataStart;
    const length = head.length + dataBytes + open.length + 1 + ROW_ID.length + digits + CLOSE.length;
    let at = this.writeAt;
    if (at + length > lineLimit) {
      // No room: copy this one, and start the next region after it.
      this.closeRegion();
      const tail = `${comma ? "," : ""}"_meta":{"op":"${String.fromCharCode(op)}","row_id":${rowId}}}`;
      this.appendBytes(head, buf, dataStart, dataClose, tail, CLOSE.subarray(2));
      return;
    }
    // The document first (it may overlap where the head goes), then what surrounds it.
    buf.copyWithin(at + head.length, dataStart, dataClose);
    buf.set(head, at);
    at += head.length + dataBytes;
    buf.set(open, at);
    at += open.length;
    buf[at++] = op;
    buf.set(ROW_ID, at);
    at += ROW_ID.length + digits;
    for (let p = at - 1, x = rowId; p >= at - digits; p--, x = Math.floor(x / 10)) buf[p] = 0x30 + (x % 10);
    buf.set(CLOSE, at);
    this.writeAt = at + CLOSE.length;
    this.regionLimit = lineLimit;
    this.grew(length);
  }

  /**
   * The arena offset where `need` more bytes fit: after what is pending in the current arena, or
   * at the start of a new one (each one filled is followed by a larger one).
   */
  private room(need: number): number {
    if (this.regionBuf !== undefined) this.closeRegion();
    if (this.arena.length - this.arenaUsed >= need) return this.arenaUsed;
    this.flushArena();
    this.arena = Buffer.allocUnsafe(Math.max(this.nextArenaBytes, need));
    this.nextArenaBytes = Math.min(this.nextArenaBytes * 2, MAX_ARENA_BYTES);
    this.arenaStart = this.arenaUsed = 0;
    return 0;
  }

  /** Counts `bytes` more in memory, and spills when the process is over its budget. */
  private grew(bytes: number): void {
    this.memoryBytes += bytes;
    const budget = this.budget;
    budget.usedBytes += bytes;
    if (budget.usedBytes > budget.limitBytes && this.memoryBytes >= Math.min(MIN_SPILL_BYTES, budget.limitBytes)) this.spill();
  }

  private closeRegion(): void {
    const buf = this.regionBuf!;
    if (this.writeAt > this.regionStart) this.chunks.push(buf.subarray(this.regionStart, this.writeAt));
    this.regionBuf = undefined;
    this.regionLimit = -1;
  }

  /** Ends the pending part of the arena as a chunk; the arena's rest stays for what follows. */
  private flushArena(): void {
    if (this.arenaUsed === this.arenaStart) return;
    this.chunks.push(this.arena.subarray(this.arenaStart, this.arenaUsed));
    this.arenaStart = this.arenaUsed;
  }

  /** Everything in memory, in order, as chunks. */
  private gather(): Buffer[] {
    if (this.regionBuf !== undefined) this.closeRegion();
    this.flushArena();
    const chunks = this.chunks;
    this.chunks = [];
    return chunks;
  }

  /** Moves everything in memory to the end of what is spilled, and lets the arena go. */
  private spill(): void {
    const file = this.budget.spillFile;
    for (const bytes of this.gather()) {
      for (let offset = 0; offset < bytes.length; ) {
        if (this.lastPageBytes === SPILL_PAGE_BYTES) {
          this.pages.push(file.take());
          this.lastPageBytes = 0;
        }
        const n = Math.min(bytes.length - offset, SPILL_PAGE_BYTES - this.lastPageBytes);
        file.write(this.pages[this.pages.length - 1]!, this.lastPageBytes, bytes.subarray(offset, offset + n));
        this.lastPageBytes += n;
        offset += n;
        this.fileBytes += n;
      }
    }
    this.budget.usedBytes -= this.memoryBytes;
    this.memoryBytes = 0;
    this.arena = EMPTY;
    this.arenaStart = this.arenaUsed = 0;
    this.nextArenaBytes = MIN_ARENA_BYTES;
  }

  /**
   * Writes everything pending (spilled first, then memory) through `write`, then empties the
   * spool. What the task appends meanwhile belongs to its next sequence.
   */
  async drainTo(write: WriteFn): Promise<void> {
    const chunks = this.gather();
    // The gathered chunks leave the spool now, and the budget as each is written.
    let held = 0;
    for (const chunk of chunks) held += chunk.length;
    this.memoryBytes -= held;
    const pages = this.pages;
    let remaining = this.fileBytes;
    this.pages = [];
    this.lastPageBytes = SPILL_PAGE_BYTES;
    this.fileBytes = 0;
    try {
      if (pages.length > 0) {
        const file = this.budget.spillFile;
        try {
          for (const page of pages) {
            const n = Math.min(remaining, SPILL_PAGE_BYTES);
            const buffer = Buffer.allocUnsafe(n);
            file.read(page, buffer, n);
            remaining -= n;
            await write(buffer);
          }
        } finally {
          file.release(pages);
        }
      }
      for (const chunk of chunks) {
        await write(chunk);
        held -= chunk.length;
        this.budget.usedBytes -= chunk.length;
      }
    } finally {
      this.budget.usedBytes -= held;
    }
  }

  /** Drops everything pending (the sequence will not be committed). */
  discard(): void {
    this.gather();
    this.budget.usedBytes -= this.memoryBytes;
    this.memoryBytes = 0;
    this.arena = EMPTY;
    this.arenaStart = this.arenaUsed = 0;
    if (this.pages.length > 0) this.budget.spillFile.release(this.pages);
    this.pages = [];
    this.lastPageBytes = SPILL_PAGE_BYTES;
    this.fileBytes = 0;
  }

  /** Releases what the spool holds (and the spill file, when the budget is its own). */
  close(): void {
    this.discard();
    if (this.ownBudget) this.budget.close();
  }
}
