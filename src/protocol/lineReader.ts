import type { Readable } from "node:stream";
import { LineTooLongError } from "./errors.js";

/** Flow's runtime decodes messages of up to 64 MB; Estuary's Python CDK reads lines up to 128 MiB. */
export const DEFAULT_MAX_LINE_BYTES = 128 * 1024 * 1024;

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

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
