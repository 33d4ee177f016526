import { SPILL_PAGE_BYTES, SpillFile } from "./spillFile.js";
import type { WriteFn } from "./writer.js";
import { collectYoungGarbage } from "../util/youngGarbage.js";

/**
 * The bytes of pending lines a process keeps in memory, across all its tasks, before spools
 * spill to disk (ServeOptions.spoolMemoryBytes).
 */
export const DEFAULT_SPOOL_MEMORY_BYTES = 8 * 1024 * 1024;
/**
 * Spools write lines into blocks of this size, which a process's budget hands out and takes back.
 * Each finished block is one write to stdout, one callback and one block given back: 64 KiB (a
 * pipe's default capacity) rather than 16 KiB made a database backfill writing 70 MB through
 * about 8 % faster end to end, with the budget, and so memory, unchanged (BENCHMARKS.md). A spool
 * with lines pending holds one block, so the default budget keeps 128 tasks' pending lines in
 * memory before spools spill. Spill pages stay 16 KiB (a page is read back into a block): with
 * 64 KiB pages, a thousand bindings spilling at once peaked at 101–165 MB instead of ~90 MB.
 */
export const SPOOL_BLOCK_BYTES = 4 * SPILL_PAGE_BYTES;

/** Pages of the spill file read back and handed to the stream, not yet written out, at most. */
const MAX_PAGES_IN_FLIGHT = 4;

/** `,"_meta":{"op":"u","row_id":` (and without the comma, and for each op): what appendInPlace adds before the row id. */
const META_HEADS = new Map<number, Buffer>();
function metaHead(comma: boolean, op: number): Buffer {
  const key = comma ? op + 256 : op;
  let head = META_HEADS.get(key);
  if (head === undefined) META_HEADS.set(key, (head = Buffer.from(`${comma ? "," : ""}"_meta":{"op":"${String.fromCharCode(op)}","row_id":`, "latin1")));
  return head;
}
/** `}}` closing `_meta` and the document, then the captured line's `}}\n`. */
const CLOSE = Buffer.from("}}}}\n", "latin1");

/**
 * Bytes of lines spooled between two minor collections (see collectYoungGarbage). A
 * connector making documents allocates their objects and strings at a high rate, and V8 then
 * lets its young generation grow to 32 MB of touched pages before collecting; with a thousand
 * bindings that is a third of the 100 MB a capture is held to. A scavenge of what little is
 * alive costs a fraction of a millisecond.
 */
const GARBAGE_EVERY_BYTES = 512 * 1024;

/**
 * What the spools of one process may keep in memory together, and the blocks they write into.
 * A spool takes a block from here when it needs one. Once the process holds more than
 * `limitBytes` (blocks, whole, from the moment they are taken until stdout is done with them),
 * a spool that needs room spills what it holds to the process's one spill file and writes on
 * through the staging block: one block for the whole process, which a spool writes to its pages
 * of the file when another takes it over. One budget, not one per task, so memory stays bounded
 * whatever the number of tasks: the budget plus one block, for one task or for a thousand.
 * Blocks are reused once written, so a busy capture does not leave a trail of buffers for the
 * garbage collector.
 */
export class SpoolBudget {
  /** Bytes held in memory: blocks taken, lines built in place, lines too long for a block. */
  usedBytes = 0;
  readonly spillFile = new SpillFile();
  private readonly free: Buffer[] = [];
  /** Bytes of lines spooled since the last minor collection. */
  private filledBytes = 0;
  /** The staging block (see the class comment), made when first needed, and the spool writing into it. */
  staging: Buffer | undefined;
  stagingOwner: Spool | undefined;

  constructor(readonly limitBytes = DEFAULT_SPOOL_MEMORY_BYTES) {}

  /** True once what is held passes the budget. */
  get spent(): boolean {
    return this.usedBytes > this.limitBytes;
  }

  /** A block to write into (counted as held until given back). */
  take(): Buffer {
    this.usedBytes += SPOOL_BLOCK_BYTES;
    return this.free.pop() ?? Buffer.allocUnsafeSlow(SPOOL_BLOCK_BYTES);
  }

  /**
   * Takes a block back, once nothing reads it any more. Blocks are kept for reuse up to the
   * budget (which they came out of): dropping them would leave them to the garbage collector,
   * which lets tens of megabytes of dead buffers pile up before it frees them.
   */
  give(block: Buffer): void {
    this.usedBytes -= SPOOL_BLOCK_BYTES;
    if ((this.free.length + 1) * SPOOL_BLOCK_BYTES <= this.limitBytes) this.free.push(block);
  }

  /** Counts the bytes of a finished block (kept or staged for the file), collecting young garbage every few megabytes. */
  filled(bytes: number): void {
    this.filledBytes += bytes;
    if (this.filledBytes >= GARBAGE_EVERY_BYTES) {
      this.filledBytes = 0;
      collectYoungGarbage();
    }
  }

  /** Closes the spill file and drops the free blocks. */
  close(): void {
    this.spillFile.close();
    this.free.length = 0;
  }
}

/** Part of a sequence taken out of a spool (Spool.take), in order: its spilled pages, then its chunks in memory. */
export interface SpoolBatch {
  readonly chunks: Buffer[];
  readonly owners: (Buffer | null)[];
  readonly pages: number[];
  readonly fileBytes: number;
  /** Bytes in all. */
  bytes: number;
}

/**
 * The lines of one task's open checkpoint sequence, waiting to be written together with their
 * checkpoint. Like Estuary's spooled buffer: in memory within the process's budget, then in a
 * temporary file, so tasks may capture any number of documents between checkpoints in bounded
 * memory.
 *
 * Lines are kept as UTF-8 bytes, never as strings: text is encoded once, into the budget's
 * blocks (`append`, `appendJson`), which stdout then writes as they are; a shim's bytes are
 * copied there (`appendBytes`) or, better, built in place in a buffer of lines it hands over
 * (`appendInPlace`: the shims rewrite a child's RECORD lines into `captured` lines where they
 * lie, and the spool keeps views of the buffer). Order is kept across all of them.
 */
export class Spool {
  /** Finished parts of the sequence, in order: views of blocks, of buffers built in place, and lines of their own. */
  private chunks: Buffer[] = [];
  /** For each chunk, the block to give back once it is written (null: not a block). */
  private owners: (Buffer | null)[] = [];
  /** Bytes of pending lines in memory. */
  private memoryBytes = 0;
  // The block being written, filled to `blockUsed`; `staged` when it is the budget's staging block.
  private block: Buffer | undefined;
  private blockUsed = 0;
  private staged = false;
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
  /**
   * Called (synchronously: it must not touch the spool, only schedule) when a part of the
   * sequence is finished (a block filled, a region closed, lines spilled), for a task writing
   * its sequence through as it is made.
   */
  onFinished: (() => void) | undefined;

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
    const block = this.room(need <= SPOOL_BLOCK_BYTES ? need : Buffer.byteLength(line));
    const written = block.write(line, this.blockUsed);
    this.blockUsed += written;
    this.memoryBytes += written;
  }

  /** Appends the line `head`, then the JSON text `json`, then `suffix`: encoded once, never concatenated. */
  appendJson(head: Uint8Array, json: string, suffix: Uint8Array): void {
    const need = head.length + json.length * 3 + suffix.length;
    const block = this.room(need <= SPOOL_BLOCK_BYTES ? need : head.length + Buffer.byteLength(json) + suffix.length);
    const from = this.blockUsed;
    let at = from;
    block.set(head, at);
    at += head.length;
    at += block.write(json, at);
    block.set(suffix, at);
    at += suffix.length;
    this.blockUsed = at;
    this.memoryBytes += at - from;
  }

  /**
   * Appends one line made of the bytes `head`, the UTF-8 bytes `bytes[start, end)`, the text
   * `tail` and the bytes `suffix`, copied (no string is made of the bytes).
   */
  appendBytes(head: Uint8Array, bytes: Uint8Array, start: number, end: number, tail: string, suffix: Uint8Array): void {
    const block = this.room(head.length + (end - start) + tail.length * 3 + suffix.length);
    const from = this.blockUsed;
    let at = from;
    block.set(head, at);
    at += head.length;
    block.set(start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end), at);
    at += end - start;
    // Tails are short and usually ASCII: a loop beats a call into the encoder.
    const n = tail.length;
    let i = 0;
    for (; i < n; i++) {
      const c = tail.charCodeAt(i);
      if (c >= 0x80) break;
      block[at++] = c;
    }
    if (i < n) at += block.write(tail.slice(i), at, "utf8");
    block.set(suffix, at);
    at += suffix.length;
    this.blockUsed = at;
    this.memoryBytes += at - from;
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
      if (this.block !== undefined) this.endBlock();
      this.regionBuf = buf;
      this.regionStart = this.writeAt = lineStart;
    }
    let digits = 1;
    for (let x = rowId; x >= 10; x = Math.floor(x / 10)) digits++;
    const meta = metaHead(comma, op);
    const dataBytes = dataClose - dataStart;
    const length = head.length + dataBytes + meta.length + digits + CLOSE.length;
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
    buf.set(meta, at);
    at += meta.length + digits;
    for (let p = at - 1, x = rowId; p >= at - digits; p--, x = Math.floor(x / 10)) buf[p] = 0x30 + (x % 10);
    buf.set(CLOSE, at);
    this.writeAt = at + CLOSE.length;
    this.regionLimit = lineLimit;
    this.memoryBytes += length;
  }

  /**
   * The block where `need` more bytes fit, at `blockUsed`: the current one, or a new one once it
   * is full (the full one joins the chunks). A line longer than a block gets a buffer of its own.
   * While the process's budget is spent, what the spool holds goes to its pages of the spill file
   * and it writes on through the staging block.
   */
  private room(need: number): Buffer {
    if (this.regionBuf !== undefined) this.closeRegion();
    const current = this.block;
    if (current !== undefined) {
      if (current.length - this.blockUsed >= need) return current;
      this.endBlock();
    }
    const budget = this.budget;
    if (budget.spent && need <= SPOOL_BLOCK_BYTES) {
      if (this.chunks.length > 0) this.spill();
      const owner = budget.stagingOwner;
      if (owner !== undefined && owner !== this) owner.unstage();
      budget.stagingOwner = this;
      this.staged = true;
      this.blockUsed = 0;
      return (this.block = budget.staging ??= Buffer.allocUnsafeSlow(SPOOL_BLOCK_BYTES));
    }
    if (need > SPOOL_BLOCK_BYTES) {
      budget.usedBytes += need;
      this.block = Buffer.allocUnsafe(need);
    } else this.block = budget.take();
    this.blockUsed = 0;
    return this.block;
  }

  /** Ends the current block: what it holds joins the chunks (or the block goes back, empty); a staged one goes to the file. */
  private endBlock(): void {
    if (this.staged) return this.unstage();
    const block = this.block!;
    this.block = undefined;
    this.budget.filled(this.blockUsed);
    const pooled = block.length === SPOOL_BLOCK_BYTES;
    if (this.blockUsed === 0) {
      if (pooled) this.budget.give(block);
      else this.budget.usedBytes -= block.length;
      return;
    }
    this.chunks.push(this.blockUsed === block.length ? block : block.subarray(0, this.blockUsed));
    this.owners.push(pooled ? block : null);
    // A line of its own holds only its bytes from now on.
    if (!pooled) this.budget.usedBytes -= block.length - this.blockUsed;
    this.onFinished?.();
  }

  /** Writes what the spool staged to its pages and lets the staging block go (another spool takes it, or the budget has room again). */
  private unstage(): void {
    this.budget.filled(this.blockUsed);
    if (this.blockUsed > 0) {
      this.toFile(this.block!.subarray(0, this.blockUsed));
      this.memoryBytes -= this.blockUsed;
    }
    this.block = undefined;
    this.blockUsed = 0;
    this.staged = false;
    if (this.budget.stagingOwner === this) this.budget.stagingOwner = undefined;
    if (this.fileBytes > 0) this.onFinished?.();
  }

  /** Appends `bytes` to what is spilled. */
  private toFile(bytes: Buffer): void {
    const file = this.budget.spillFile;
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

  private closeRegion(): void {
    const buf = this.regionBuf!;
    this.regionBuf = undefined;
    this.regionLimit = -1;
    if (this.writeAt === this.regionStart) return;
    const bytes = this.writeAt - this.regionStart;
    this.chunks.push(buf.subarray(this.regionStart, this.writeAt));
    this.owners.push(null);
    this.budget.usedBytes += bytes;
    if (this.budget.spent) this.spill();
    this.onFinished?.();
  }

  /**
   * Everything in memory, in order, as chunks and their owners; with `finishedOnly`, without the
   * block or region still being written (what follows in the sequence goes on there).
   */
  private gather(finishedOnly = false): { chunks: Buffer[]; owners: (Buffer | null)[] } {
    if (!finishedOnly) {
      if (this.regionBuf !== undefined) this.closeRegion();
      if (this.block !== undefined) this.endBlock();
    }
    const gathered = { chunks: this.chunks, owners: this.owners };
    this.chunks = [];
    this.owners = [];
    return gathered;
  }

  /** Gives back what a chunk holds, once nothing reads it any more. */
  private release(chunk: Buffer, owner: Buffer | null): void {
    if (owner !== null) this.budget.give(owner);
    else this.budget.usedBytes -= chunk.length;
  }

  /** Moves everything in memory to the end of what is spilled. */
  private spill(): void {
    const { chunks, owners } = this.gather();
    for (let c = 0; c < chunks.length; c++) {
      this.toFile(chunks[c]!);
      this.release(chunks[c]!, owners[c]!);
    }
    this.memoryBytes = 0;
  }

  /**
   * Writes everything pending (spilled first, then memory) through `write`, then empties the
   * spool. What the task appends meanwhile belongs to its next sequence. Blocks go back to the
   * budget as the stream finishes with them.
   */
  drainTo(write: WriteFn): Promise<void> {
    return this.writeBatch(this.take(), write);
  }

  /** True when parts of the sequence are finished (see take's `finishedOnly`). */
  get hasFinished(): boolean {
    return this.chunks.length > 0 || this.fileBytes > 0;
  }

  /**
   * Takes what is pending out of the spool, in order, to be written with writeBatch (or let go
   * with releaseBatch): everything, or with `finishedOnly` everything but the block (or region)
   * still being written, which the spool keeps filling. Batches taken one after another hold the
   * sequence in order: spilled pages always precede the chunks in memory.
   */
  take(finishedOnly = false): SpoolBatch {
    const { chunks, owners } = this.gather(finishedOnly);
    const batch: SpoolBatch = { chunks, owners, pages: this.pages, fileBytes: this.fileBytes, bytes: this.fileBytes };
    for (const chunk of chunks) batch.bytes += chunk.length;
    this.memoryBytes -= batch.bytes - this.fileBytes;
    this.pages = [];
    this.lastPageBytes = SPILL_PAGE_BYTES;
    this.fileBytes = 0;
    return batch;
  }

  /**
   * Writes a batch taken from this spool through `write`; its blocks go back to the budget as
   * the stream finishes with them, and `onWrittenOut` is told the bytes of each.
   */
  async writeBatch(batch: SpoolBatch, write: WriteFn, onWrittenOut?: (bytes: number) => void): Promise<void> {
    const { chunks, owners, pages } = batch;
    let remaining = batch.fileBytes;
    let next = 0;
    try {
      if (pages.length > 0) {
        const file = this.budget.spillFile;
        try {
          // Each page is read into a block, which goes back once written; a stream that takes
          // writes faster than it writes them out does not get the whole file at once.
          let inFlight = 0;
          let written: (() => void) | undefined;
          for (const page of pages) {
            while (inFlight >= MAX_PAGES_IN_FLIGHT) {
              write.flush?.();
              await new Promise<void>((resolve) => (written = resolve));
            }
            const n = Math.min(remaining, SPILL_PAGE_BYTES);
            const block = this.budget.take();
            file.read(page, block, n);
            remaining -= n;
            inFlight++;
            await write(n === block.length ? block : block.subarray(0, n), () => {
              this.budget.give(block);
              onWrittenOut?.(n);
              inFlight--;
              const wake = written;
              written = undefined;
              wake?.();
            });
          }
        } finally {
          file.release(pages);
        }
      }
      while (next < chunks.length) {
        const chunk = chunks[next]!;
        const owner = owners[next]!;
        next++; // handed over: released when the stream is done with it
        const wait = write(chunk, () => {
          this.release(chunk, owner);
          onWrittenOut?.(chunk.length);
        });
        if (wait !== undefined) await wait;
      }
    } finally {
      // What was not handed to the stream (it failed) is let go here.
      for (; next < chunks.length; next++) this.release(chunks[next]!, owners[next]!);
    }
  }

  /** Lets a batch go unwritten. */
  releaseBatch(batch: SpoolBatch): void {
    for (let c = 0; c < batch.chunks.length; c++) this.release(batch.chunks[c]!, batch.owners[c]!);
    if (batch.pages.length > 0) this.budget.spillFile.release(batch.pages);
  }

  /** Drops everything pending (the sequence will not be committed). */
  discard(): void {
    const { chunks, owners } = this.gather();
    for (let c = 0; c < chunks.length; c++) this.release(chunks[c]!, owners[c]!);
    this.memoryBytes = 0;
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
