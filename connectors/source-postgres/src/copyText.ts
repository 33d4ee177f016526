import { isUtf8 } from "node:buffer";
import { FlowcapError } from "flowcap";
import { documentSlots } from "./documents.js";
import { byteTranscoderOf, ROOM_EXTRA, ROOM_PER_BYTE, type ByteTranscoder } from "./valueBytes.js";
import type { Transcoder } from "./values.js";

/**
 * Rows of `COPY … TO STDOUT` in its text format (one row per CopyData message: fields split by
 * tabs, `\N` for NULL, backslash escapes), turned into documents as UTF-8 bytes. Backfill reads
 * chunks this way because the row arrives as one buffer: no string per field, as pg makes for a
 * DataRow, and the common values go straight to JSON bytes (`valueBytes.ts`). The text of each
 * value is the same as in a DataRow (the same output functions, the same session settings), and
 * values the byte forms leave aside go through the same string transcoders as replication.
 */

const TAB = 0x09;
const NEWLINE = 0x0a;
const BACKSLASH = 0x5c;
const NULL_MARK = 0x4e; // N

/** COPY's single-letter escapes (the rest stand for themselves, `\\` for a backslash). */
const LETTER_ESCAPES: Record<number, number> = { 0x62: 0x08, 0x66: 0x0c, 0x6e: 0x0a, 0x72: 0x0d, 0x74: 0x09, 0x76: 0x0b };

const isOctal = (c: number | undefined): boolean => c !== undefined && c >= 0x30 && c <= 0x37;
function hexValue(c: number | undefined): number {
  if (c === undefined) return -1;
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/** Undoes COPY's escapes in `src[start, end)` into `out` from 0 (never longer); returns the length. */
export function unescapeCopyText(src: Uint8Array, start: number, end: number, out: Uint8Array): number {
  let at = 0;
  for (let i = start; i < end; i++) {
    const c = src[i]!;
    if (c !== BACKSLASH || i + 1 >= end) {
      out[at++] = c;
      continue;
    }
    const next = src[++i]!;
    const letter = LETTER_ESCAPES[next];
    if (letter !== undefined) {
      out[at++] = letter;
    } else if (isOctal(next)) {
      let value = next - 0x30;
      for (let k = 0; k < 2 && i + 1 < end && isOctal(src[i + 1]); k++) value = value * 8 + (src[++i]! - 0x30);
      out[at++] = value & 0xff;
    } else if (next === 0x78 /* x */ && hexValue(src[i + 1]) >= 0 && i + 1 < end) {
      let value = hexValue(src[++i]);
      if (i + 1 < end && hexValue(src[i + 1]) >= 0) value = value * 16 + hexValue(src[++i]);
      out[at++] = value;
    } else {
      out[at++] = next;
    }
  }
  return at;
}

/** The end of the CopyData row `row[start, end)` without its line end. */
export function rowEnd(row: Uint8Array, start: number, end: number): number {
  return end > start && row[end - 1] === NEWLINE ? end - 1 : end;
}

/** Set by splitRow: whether the row has a byte past ASCII. */
let splitNonAscii = false;
const lastRowNonAscii = (): boolean => splitNonAscii;

/**
 * Field bounds of the row `row[from, end)`: for field i, `[starts[i], ends[i])`, with `flags[i]`
 * 1 when it holds escapes and 2 when it is NULL. Returns the number of fields; sets splitNonAscii.
 */
function splitRow(row: Uint8Array, from: number, end: number, starts: Int32Array, ends: Int32Array, flags: Uint8Array): number {
  const max = starts.length;
  let field = 0;
  let bits = 0;
  let i = from;
  for (;;) {
    // One field: up to the next tab (an escaped byte is never a separator) or the row's end.
    const start = i;
    let escaped = 0;
    while (i < end) {
      const c = row[i]!;
      if (c === TAB) break;
      bits |= c;
      if (c === BACKSLASH) {
        escaped = 1;
        if (++i >= end) break; // a last backslash stands for itself (unescapeCopyText)
        bits |= row[i]!;
      }
      i++;
    }
    if (field === max) return max + 1;
    starts[field] = start;
    ends[field] = i;
    flags[field] = escaped && i - start === 2 && row[start] === BACKSLASH && row[start + 1] === NULL_MARK ? 2 : escaped;
    field++;
    if (i >= end) break;
    i++; // the tab
  }
  splitNonAscii = (bits & 0x80) !== 0;
  return field;
}

/**
 * The text of each field of the row `row[start, stop)` (null for NULL), for the few values needed
 * as strings (the resume key).
 */
export function rowTexts(row: Buffer, start: number, stop: number, columns: number): (string | null)[] {
  const starts = new Int32Array(columns);
  const ends = new Int32Array(columns);
  const flags = new Uint8Array(columns);
  const end = rowEnd(row, start, stop);
  const count = splitRow(row, start, end, starts, ends, flags);
  if (count !== columns) throw columnCountError(count, columns);
  const scratch = Buffer.allocUnsafe(end - start);
  const texts: (string | null)[] = [];
  for (let i = 0; i < columns; i++) {
    if (flags[i] === 2) texts.push(null);
    else if (flags[i] === 1) texts.push(scratch.toString("utf8", 0, unescapeCopyText(row, starts[i]!, ends[i]!, scratch)));
    else texts.push(row.toString("utf8", starts[i], ends[i]));
  }
  return texts;
}

function columnCountError(got: number, expected: number): FlowcapError {
  return new FlowcapError("CAPTURE_FAILED", `a backfill row has ${got > expected ? "more than " + expected : got} fields where the query described ${expected} columns`);
}

/** Writes one row's document into `out` from 0; returns its length (see CopyDocuments.document). */
export type DocumentWriter = (row: Buffer, rowStart: number, rowStop: number, metaHead: Uint8Array, metaNumber: number, metaTail: Uint8Array) => number;

/**
 * Builds the documents of one result shape (as `RowShape` does for strings): properties sorted
 * bytewise by name with `_meta` among them. `document()` writes one row's document into `out`.
 *
 * `document` is compiled for the shape (as fast-json-stringify compiles a serializer for a
 * schema): the property names become byte stores, and each column calls its own byte form, so
 * every call site sees one function, which V8 inlines. A loop over the shape's slots calling its
 * byte forms through a table took a fifth longer (133 against 111 ms for 300,000 rows;
 * BENCHMARKS.md). Only numbers (bytes, column indexes) are written into the generated code,
 * never a name.
 */
export class CopyDocuments {
  /** The bytes of the last document built, from 0 to what document() returned. */
  out: Buffer = Buffer.allocUnsafe(64 * 1024);
  readonly columns: number;
  /**
   * Writes the document of the row `row[rowStart, rowStop)` (one CopyData message's payload)
   * into `out` from 0 and returns its length. `_meta` is the bytes `metaHead`, the decimal
   * `metaNumber` and `metaTail`.
   */
  readonly document: DocumentWriter;
  /** Bytes of the property names and braces of a document. */
  private readonly prefixBytes: number;
  private readonly byteForms: (ByteTranscoder | undefined)[];
  private readonly starts: Int32Array;
  private readonly ends: Int32Array;
  private readonly flags: Uint8Array;
  private scratch: Buffer = Buffer.allocUnsafe(64 * 1024);

  /**
   * @param names the columns in result order (undefined: a column left out of documents)
   * @param transcoders one per column
   */
  constructor(
    names: (string | undefined)[],
    private readonly transcoders: Transcoder[],
  ) {
    this.columns = names.length;
    const slots = documentSlots(names);
    const prefixes = slots.map((s, i) => Buffer.from((i === 0 ? "{" : ",") + JSON.stringify(s.name) + ":", "utf8"));
    this.prefixBytes = prefixes.reduce((n, p) => n + p.length, 0) + 1;
    this.byteForms = transcoders.map((t) => byteTranscoderOf(t));
    this.starts = new Int32Array(this.columns);
    this.ends = new Int32Array(this.columns);
    this.flags = new Uint8Array(this.columns);
    this.document = this.compile(slots.map((s) => s.index), prefixes);
  }

  private compile(order: number[], prefixes: Buffer[]): DocumentWriter {
    const lines: string[] = [
      "const end = rowEnd(row, rowStart, rowStop);",
      "const count = splitRow(row, rowStart, end, starts, ends, flags);",
      `if (count !== ${this.columns}) throw columnCountError(count, ${this.columns});`,
      // Bytes that are not UTF-8 (a SQL_ASCII database) take the string path, which reads them
      // as a DataRow's strings were read (invalid sequences become U+FFFD).
      "const valid = !lastRowNonAscii() || isUtf8(row.subarray(rowStart, end));",
      `const metaRoom = metaHead.length + metaTail.length + ${this.prefixBytes + 24};`,
      `let out = self.reserve(0, metaRoom + ${ROOM_PER_BYTE} * (end - rowStart) + ${ROOM_EXTRA * this.columns});`,
      "let at = 0;",
      "let flag = 0;",
      "let w = 0;",
    ];
    const constant = (bytes: Uint8Array, name: string): void => {
      if (bytes.length > 32) {
        lines.push(`out.set(${name}, at);`, `at += ${bytes.length};`);
        return;
      }
      bytes.forEach((b, k) => lines.push(`out[at + ${k}] = ${b};`));
      lines.push(`at += ${bytes.length};`);
    };
    order.forEach((column, slot) => {
      constant(prefixes[slot]!, `prefixes[${slot}]`);
      if (column < 0) {
        lines.push("out.set(metaHead, at);", "at += metaHead.length;", "at = writeDecimal(metaNumber, out, at);", "out.set(metaTail, at);", "at += metaTail.length;");
        return;
      }
      lines.push(`flag = flags[${column}];`);
      const fast = this.byteForms[column] ? `flag === 0 && valid && (w = form${column}(row, starts[${column}], ends[${column}], out, at)) >= 0` : "false";
      lines.push(
        `if (${fast}) at = w;`,
        "else if (flag === 2) {",
        ...[...NULL_JSON].map((b, k) => `out[at + ${k}] = ${b};`),
        "at += 4;",
        `} else { at = self.slowValue(${column}, row, at, valid, end, metaRoom); out = self.out; }`,
      );
    });
    lines.push("out[at] = 0x7d;", "return at + 1;");
    const forms = this.byteForms.map((_, i) => `form${i}`);
    const make = new Function("self", "rowEnd", "splitRow", "lastRowNonAscii", "isUtf8", "columnCountError", "writeDecimal", "starts", "ends", "flags", "prefixes", ...forms, `"use strict";\nreturn function document(row, rowStart, rowStop, metaHead, metaNumber, metaTail) {\n${lines.join("\n")}\n};`) as (...args: unknown[]) => DocumentWriter;
    return make(this, rowEnd, splitRow, lastRowNonAscii, isUtf8, columnCountError, writeDecimal, this.starts, this.ends, this.flags, prefixes, ...this.byteForms);
  }

  /**
   * Writes the value of `column` at `at` when the compiled path leaves it aside (escaped, not
   * UTF-8, without a byte form, or refused by it), growing `out` when needed; returns the
   * position after it. `metaRoom` is the room reserved for `_meta` and the braces.
   */
  slowValue(column: number, row: Buffer, at: number, valid: boolean, end: number, metaRoom: number): number {
    let src: Buffer = row;
    let start = this.starts[column]!;
    let stop = this.ends[column]!;
    if (this.flags[column] === 1) {
      if (this.scratch.length < stop - start) this.scratch = Buffer.allocUnsafe(2 * (stop - start));
      src = this.scratch;
      stop = unescapeCopyText(row, start, stop, src);
      start = 0;
    }
    const form = valid ? this.byteForms[column] : undefined;
    const written = form === undefined ? -1 : form(src, start, stop, this.out, at);
    if (written >= 0) return written;
    const json = this.transcoders[column]!(src.toString("utf8", start, stop));
    // Room for this value and, as at the start, for the rest of the row.
    const out = this.reserve(at, 3 * json.length + metaRoom + ROOM_PER_BYTE * (end - this.ends[column]!) + ROOM_EXTRA * this.columns);
    return at + out.write(json, at, "utf8");
  }

  /** Makes room for `bytes` more bytes after `used`, keeping what is written; returns `out`. */
  reserve(used: number, bytes: number): Buffer {
    if (used + bytes <= this.out.length) return this.out;
    const grown = Buffer.allocUnsafe(Math.max(2 * this.out.length, used + bytes));
    this.out.copy(grown, 0, 0, used);
    this.out = grown;
    return grown;
  }
}

const NULL_JSON = Buffer.from("null", "latin1");

/** Writes a non-negative integer in decimal. */
function writeDecimal(n: number, out: Uint8Array, at: number): number {
  if (n < 10) {
    out[at] = 0x30 + n;
    return at + 1;
  }
  let digits = 0;
  for (let m = n; m >= 1; m = Math.floor(m / 10)) digits++;
  for (let i = at + digits - 1, m = n; i >= at; i--, m = Math.floor(m / 10)) out[i] = 0x30 + (m % 10);
  return at + digits;
}
