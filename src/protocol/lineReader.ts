import type { Readable } from "node:stream";
import { LineTooLongError } from "./errors.js";

/** Flow's runtime decodes messages of up to 64 MB; Estuary's Python CDK reads lines up to 128 MiB. */
export const DEFAULT_MAX_LINE_BYTES = 128 * 1024 * 1024;

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/**
 * Complete lines held in one buffer, as `LineSplitter.pushBatch` hands them out, for readers that
 * walk lines by offset instead of making a Buffer view of each. Line `k` (from 0) spans
 * `buf[lineStart(k), ends[k])`, where `ends[k]` is the offset of its newline (`buf.length` for a
 * last line that had none); a `\r` before the newline is part of it. Its number in the stream is
 * `firstLine + k`.
 *
 * The buffer is the reader's: nothing else holds it (the splitter copies what follows the last
 * line), so a reader may overwrite a line once it has read it.
 */
export class LineBatch {
  constructor(
    readonly buf: Buffer,
    /** Offset of the first line. */
    readonly start: number,
    readonly ends: Int32Array,
    readonly firstLine: number,
  ) {}

  get count(): number {
    return this.ends.length;
  }

  /** Bytes the lines span, newlines included. */
  get bytes(): number {
    return Math.min(this.ends[this.ends.length - 1]! + 1, this.buf.length) - this.start;
  }

  /** Offset of line `k`'s first byte. */
  lineStart(k: number): number {
    return k === 0 ? this.start : this.ends[k - 1]! + 1;
  }

  /**
   * Calls `onLine` for each line from line `k` on, with where it starts, where it ends without
   * its line ending (`\n` or `\r\n`), and where its line ending ends (the next line's start).
   * When `onLine` returns a promise, the lines after it wait for it, and so does the promise
   * this returns.
   */
  eachLine(onLine: (buf: Buffer, start: number, end: number, limit: number) => void | Promise<void>, k = 0): void | Promise<void> {
    const { buf, ends } = this;
    for (let start = this.lineStart(k); k < ends.length; k++) {
      const newline = ends[k]!;
      const end = newline > start && buf[newline - 1] === CARRIAGE_RETURN ? newline - 1 : newline;
      const lineStart = start;
      start = newline + 1;
      const wait = onLine(buf, lineStart, end, Math.min(start, buf.length));
      if (wait !== undefined) {
        const next = k + 1;
        return wait.then(() => this.eachLine(onLine, next));
      }
    }
  }

  /** Line `k` without its line ending (`\n` or `\r\n`), as a view of the buffer. */
  line(k: number): Buffer {
    return trimCarriageReturn(this.buf.subarray(this.lineStart(k), this.ends[k]));
  }
}

/**
 * Splits a byte stream into lines, synchronously, chunk by chunk. A trailing `\r` is dropped
 * (CRLF is tolerated); lines are returned as Buffer views of the input where possible, so the
 * caller decides whether and how to decode them.
 *
 * This is the push-side core that both the request reader and the shims' child readers use.
 */
export class LineSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private lineCount = 0;
  /** pushBatch's newline offsets, before they are copied into a batch of the right size. */
  private ends = new Int32Array(1024);

  constructor(private readonly maxLineBytes = DEFAULT_MAX_LINE_BYTES) {}

  /** Number of lines returned so far. */
  get lines(): number {
    return this.lineCount;
  }

  /** Bytes held for a line that has not ended yet. */
  get bufferedBytes(): number {
    return this.pendingBytes;
  }

  /** Feeds a chunk and calls `onLine` for each completed line, with its 1-based number. */
  push(chunk: Buffer, onLine: (line: Buffer, lineNumber: number) => void): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(NEWLINE, start);
      if (nl < 0) break;
      let line: Buffer;
      if (this.pendingBytes > 0) {
        this.checkLength(this.pendingBytes + (nl - start));
        this.pending.push(chunk.subarray(start, nl));
        line = Buffer.concat(this.pending, this.pendingBytes + (nl - start));
        this.pending = [];
        this.pendingBytes = 0;
      } else {
        this.checkLength(nl - start);
        line = chunk.subarray(start, nl);
      }
      start = nl + 1;
      onLine(trimCarriageReturn(line), ++this.lineCount);
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      this.checkLength(this.pendingBytes + rest.length);
      this.pending.push(rest);
      this.pendingBytes += rest.length;
    }
  }

  /**
   * Feeds a chunk and calls `onBatch` with its complete lines, in one or two batches: the line
   * begun in earlier chunks, completed (in a buffer of its own), then the lines that lie wholly
   * in the chunk (a view of the chunk, which the batch's reader then owns). One pass of
   * `indexOf` finds the newlines; no view is made per line. Lines before one that is too long
   * are handed out before the LineTooLongError is thrown.
   */
  pushBatch(chunk: Buffer, onBatch: (batch: LineBatch) => void): void {
    let start = 0;
    if (this.pendingBytes > 0) {
      const nl = chunk.indexOf(NEWLINE);
      if (nl < 0) {
        this.keep(chunk);
        return;
      }
      this.checkLength(this.pendingBytes + nl);
      this.pending.push(chunk.subarray(0, nl + 1));
      const buf = Buffer.concat(this.pending, this.pendingBytes + nl + 1);
      this.pending = [];
      this.pendingBytes = 0;
      onBatch(new LineBatch(buf, 0, Int32Array.of(buf.length - 1), ++this.lineCount));
      start = nl + 1;
    }
    let ends = this.ends;
    let n = 0;
    let from = start;
    for (;;) {
      const nl = chunk.indexOf(NEWLINE, from);
      if (nl < 0) break;
      if (nl - from > this.maxLineBytes) {
        this.emit(chunk, start, n, onBatch);
        throw new LineTooLongError(this.lineCount + 1, this.maxLineBytes);
      }
      if (n === ends.length) {
        const grown = new Int32Array(n * 2);
        grown.set(ends);
        ends = this.ends = grown;
      }
      ends[n++] = nl;
      from = nl + 1;
    }
    if (from < chunk.length) {
      // Without a line of the chunk, the chunk is kept as it is; otherwise its unfinished end
      // is copied (a fragment of one line), so the batch's reader owns the whole chunk.
      this.keep(from === 0 ? chunk : Buffer.from(chunk.subarray(from)));
    }
    this.emit(chunk, start, n, onBatch);
  }

  /** Ends the input of pushBatch: a final line that had no newline, if any, as a batch. */
  endBatch(onBatch: (batch: LineBatch) => void): void {
    if (this.pendingBytes === 0) return;
    const buf = Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    onBatch(new LineBatch(buf, 0, Int32Array.of(buf.length), ++this.lineCount));
  }

  private emit(chunk: Buffer, start: number, n: number, onBatch: (batch: LineBatch) => void): void {
    if (n === 0) return;
    const batch = new LineBatch(chunk, start, this.ends.slice(0, n), this.lineCount + 1);
    this.lineCount += n;
    onBatch(batch);
  }

  /** Keeps the start of an unfinished line. */
  private keep(rest: Buffer): void {
    this.checkLength(this.pendingBytes + rest.length);
    this.pending.push(rest);
    this.pendingBytes += rest.length;
  }

  /** Ends the input; returns a final line that had no newline, if any. */
  end(onLine: (line: Buffer, lineNumber: number) => void): void {
    if (this.pendingBytes === 0) return;
    const line = Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    onLine(trimCarriageReturn(line), ++this.lineCount);
  }

  private checkLength(bytes: number): void {
    if (bytes > this.maxLineBytes) throw new LineTooLongError(this.lineCount + 1, this.maxLineBytes);
  }
}

function trimCarriageReturn(line: Buffer): Buffer {
  return line.length > 0 && line[line.length - 1] === CARRIAGE_RETURN ? line.subarray(0, line.length - 1) : line;
}

/** One line of text and its 1-based number. */
export interface Line {
  text: string;
  number: number;
}

/**
 * Reads a stream as UTF-8 lines. Pull-based: the stream is not read faster than the consumer
 * takes lines, so backpressure reaches the writer.
 */
export async function* readLines(stream: Readable, options: { maxLineBytes?: number } = {}): AsyncGenerator<Line> {
  const splitter = new LineSplitter(options.maxLineBytes);
  const ready: Line[] = [];
  const collect = (line: Buffer, number: number) => ready.push({ text: line.toString("utf8"), number });
  for await (const chunk of stream) {
    splitter.push(typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer), collect);
    for (const line of ready.splice(0)) yield line;
  }
  splitter.end(collect);
  for (const line of ready.splice(0)) yield line;
}
