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

/** The length of a CopyData row without its line end. */
export function rowEnd(row: Uint8Array): number {
  return row.length > 0 && row[row.length - 1] === NEWLINE ? row.length - 1 : row.length;
}

/** Set by splitRow: whether the row has a byte past ASCII. */
let splitNonAscii = false;

/**
 * Field bounds of one row: for field i, `[starts[i], ends[i])`, with `flags[i]` 1 when it holds
 * escapes and 2 when it is NULL. Returns the number of fields; sets splitNonAscii.
 */
function splitRow(row: Uint8Array, end: number, starts: Int32Array, ends: Int32Array, flags: Uint8Array): number {
  let field = 0;
  let start = 0;
  let escaped = 0;
  let bits = 0;
  const max = starts.length;
  for (let i = 0; i <= end; i++) {
    const c = i < end ? row[i]! : TAB;
    bits |= c;
    if (c === BACKSLASH) {
      escaped = 1;
      if (++i < end) bits |= row[i]!; // the escaped byte is never a separator
      continue;
    }
    if (c !== TAB) continue;
    if (field === max) return max + 1;
    starts[field] = start;
    ends[field] = i;
    flags[field] = escaped && i - start === 2 && row[start] === BACKSLASH && row[start + 1] === NULL_MARK ? 2 : escaped;
    field++;
    start = i + 1;
    escaped = 0;
  }
  splitNonAscii = (bits & 0x80) !== 0;
  return field;
}

/** The text of each field of a row (null for NULL), for the few values needed as strings (the resume key). */
export function rowTexts(row: Buffer, columns: number): (string | null)[] {
  const starts = new Int32Array(columns);
  const ends = new Int32Array(columns);
  const flags = new Uint8Array(columns);
  const end = rowEnd(row);
  const count = splitRow(row, end, starts, ends, flags);
  if (count !== columns) throw columnCountError(count, columns);
  const scratch = Buffer.allocUnsafe(end);
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

const NULL_JSON = Buffer.from("null", "latin1");

/**
 * Builds the documents of one result shape (as `RowShape` does for strings): properties sorted
 * bytewise by name with `_meta` among them. `document()` writes one row's document into `out`.
 */
export class CopyDocuments {
  /** The bytes of the last document built, from 0 to what document() returned. */
  out: Buffer = Buffer.allocUnsafe(64 * 1024);
  readonly columns: number;
  /** Per sorted slot: the column it takes its value from, or -1 for `_meta`. */
  private readonly order: number[];
  /** Per sorted slot: `{"name":` for the first, `,"name":` after. */
  private readonly prefixes: Buffer[];
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
    this.order = slots.map((s) => s.index);
    this.prefixes = slots.map((s, i) => Buffer.from((i === 0 ? "{" : ",") + JSON.stringify(s.name) + ":", "utf8"));
    this.prefixBytes = this.prefixes.reduce((n, p) => n + p.length, 0) + 1;
    this.byteForms = transcoders.map((t) => byteTranscoderOf(t));
    this.starts = new Int32Array(this.columns);
    this.ends = new Int32Array(this.columns);
    this.flags = new Uint8Array(this.columns);
  }

  /**
   * Writes the document of `row` (one CopyData message) into `out` from 0 and returns its length.
   * `_meta` is the bytes `metaHead`, the decimal `metaNumber` and `metaTail`.
   */
  document(row: Buffer, metaHead: Uint8Array, metaNumber: number, metaTail: Uint8Array): number {
    const end = rowEnd(row);
    const { starts, ends, flags, order, prefixes, transcoders } = this;
    const count = splitRow(row, end, starts, ends, flags);
    if (count !== this.columns) throw columnCountError(count, this.columns);
    // Bytes that are not UTF-8 (a SQL_ASCII database) take the string path, which reads them as
    // a DataRow's strings were read (invalid sequences become U+FFFD).
    const valid = !splitNonAscii || isUtf8(row);
    this.reserve(0, this.prefixBytes + metaHead.length + metaTail.length + 24 + ROOM_PER_BYTE * end + ROOM_EXTRA * this.columns);
    let out = this.out;
    let at = 0;
    for (let slot = 0; slot < order.length; slot++) {
      const prefix = prefixes[slot]!;
      for (let k = 0; k < prefix.length; k++) out[at++] = prefix[k]!;
      const column = order[slot]!;
      if (column < 0) {
        out.set(metaHead, at);
        at += metaHead.length;
        at = writeDecimal(metaNumber, out, at);
        out.set(metaTail, at);
        at += metaTail.length;
        continue;
      }
      const flag = flags[column]!;
      if (flag === 2) {
        for (let k = 0; k < 4; k++) out[at++] = NULL_JSON[k]!;
        continue;
      }
      let src: Buffer = row;
      let start = starts[column]!;
      let stop = ends[column]!;
      if (flag === 1) {
        if (this.scratch.length < stop - start) this.scratch = Buffer.allocUnsafe(2 * (stop - start));
        src = this.scratch;
        stop = unescapeCopyText(row, start, stop, src);
        start = 0;
      }
      const form = valid ? this.byteForms[column] : undefined;
      const written = form === undefined ? -1 : form(src, start, stop, out, at);
      if (written >= 0) {
        at = written;
        continue;
      }
      const json = transcoders[column]!(src.toString("utf8", start, stop));
      // Room for this value and, as at the start, for the rest of the row.
      out = this.reserve(at, 3 * json.length + this.prefixBytes + metaHead.length + metaTail.length + 24 + ROOM_PER_BYTE * (end - ends[column]!) + ROOM_EXTRA * this.columns);
      at += out.write(json, at, "utf8");
    }
    out[at++] = 0x7d; // }
    return at;
  }

  /** Makes room for `bytes` more bytes after `used`, keeping what is written; returns `out`. */
  private reserve(used: number, bytes: number): Buffer {
    if (used + bytes <= this.out.length) return this.out;
    const grown = Buffer.allocUnsafe(Math.max(2 * this.out.length, used + bytes));
    this.out.copy(grown, 0, 0, used);
    this.out = grown;
    return grown;
  }
}

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
