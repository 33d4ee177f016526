/**
 * The Singer RECORD fast path: finds a RECORD line's stream, its `version`, and the exact bytes
 * of its `record` object without parsing the line, so the shim hands those bytes to Flow with
 * `_meta` spliced in: no decoding, no `JSON.parse`/`JSON.stringify` per record, and integers
 * beyond 2^53 pass through exactly. The type is matched in any case (`"record"` too), keys in any
 * order, nesting at any depth, keys written with escapes included. A line that is not a
 * well-formed RECORD returns false, and the caller reads it the slow way.
 *
 * The byte walkers are `../jsonBytes.ts`'s, shared with the Airbyte scanner.
 */
import { COLON, COMMA, LBRACE, QUOTE, RBRACE, TokenCache, hasEscape, keyIs, newMetaFlag, skipComposite, skipString, skipValue, skipWs, stringValue, tokenIsCaseless } from "../jsonBytes.js";

/** Where a RECORD's parts are in its line. Reused from line to line (no allocation per record). */
export class SingerRecordSpan {
  stream = "";
  /** Offset of the `{` that opens `record`. */
  recordStart = -1;
  /** Offset just past the `}` that closes `record`. */
  recordEnd = -1;
  /** A top-level key of `record` is `"_meta"`. */
  hasMeta = false;
  /** The record's `version`, or undefined when it has none (absent or null). */
  version: number | undefined = undefined;
  /** Where the stream's string token is (quotes included). */
  streamStart = -1;
  streamEnd = -1;
  /** Where the version's token is, or -1 when it has none. */
  versionStart = -1;
  versionEnd = -1;
  private readonly names = new TokenCache();
  /** The last version token and its value: a stream's records repeat one version. */
  private versionBytes: Buffer = Buffer.alloc(0);
  private versionValue: number | undefined = undefined;

  /** @internal */
  decodeStream(b: Buffer, start: number, end: number): string {
    return this.names.decode(b, start, end);
  }

  /** @internal The version token `b[start, end)`, reusing the last value when the bytes repeat; NaN when it is not a number or null. */
  decodeVersion(b: Buffer, start: number, end: number): number | undefined {
    const last = this.versionBytes;
    if (end - start === last.length && b.compare(last, 0, last.length, start, end) === 0) return this.versionValue;
    const value = versionOf(b, start, end);
    this.versionBytes = Buffer.from(b.subarray(start, end));
    this.versionValue = value;
    return value;
  }
}

import { SCAN_STRIDE } from "../scanLayout.js";

const META = newMetaFlag();

const NAMES = ["type", "stream", "record", "version"] as const;
type Name = (typeof NAMES)[number] | undefined;

/** Which of the envelope's keys the key token `b[start, end)` is. */
function envelopeKey(b: Buffer, start: number, end: number): Name {
  const len = end - start - 2;
  for (const name of NAMES) if (keyIs(b, start, len, name)) return name;
  if (hasEscape(b, start, end)) {
    const key = stringValue(b, start, end);
    return NAMES.find((n) => n === key);
  }
  return undefined;
}

/** A JSON number token as a number; undefined for null; NaN for anything else. */
function versionOf(b: Buffer, start: number, end: number): number | undefined {
  if (end - start === 4 && b[start] === 0x6e /* n */) return b.toString("latin1", start, end) === "null" ? undefined : NaN;
  const text = b.toString("latin1", start, end);
  return /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(text) ? Number(text) : NaN;
}

/**
 * Scans the UTF-8 bytes of `line` (or of the line `line[start, end)` of a buffer of lines) as a
 * Singer RECORD message. Returns true and fills `out` when it is a well-formed one (a string
 * `stream`, an object `record`, a numeric or null `version`); false for anything else. Nothing
 * outside `[start, end)` is read.
 */
export function scanSingerRecord(line: Buffer, out: SingerRecordSpan, start = 0, end: number = line.length): boolean {
  let i = skipWs(line, start, end);
  if (line[i] !== LBRACE) return false;
  i = skipWs(line, i + 1, end);
  let isRecord = false;
  let haveStream = false;
  out.recordStart = -1;
  out.version = undefined;
  out.versionStart = -1;
  for (;;) {
    if (i >= end || line[i] !== QUOTE) return false;
    const keyStart = i;
    const keyEnd = skipString(line, i, end);
    if (keyEnd < 0) return false;
    i = skipWs(line, keyEnd, end);
    if (line[i] !== COLON) return false;
    const valueStart = skipWs(line, i + 1, end);
    const key = envelopeKey(line, keyStart, keyEnd);
    if (key === "record") {
      if (line[valueStart] !== LBRACE) return false;
      META.hasMeta = false;
      i = skipComposite(line, valueStart, META, end);
      if (i < 0) return false;
      out.hasMeta = META.hasMeta;
      out.recordStart = valueStart;
      out.recordEnd = i;
    } else {
      i = skipValue(line, valueStart, end);
      if (i < 0) return false;
      if (key === "type") {
        if (line[valueStart] !== QUOTE || !tokenIsCaseless(line, valueStart, i, "RECORD")) return false;
        isRecord = true;
      } else if (key === "stream") {
        if (line[valueStart] !== QUOTE) return false;
        out.stream = out.decodeStream(line, valueStart, i);
        out.streamStart = valueStart;
        out.streamEnd = i;
        haveStream = true;
      } else if (key === "version") {
        const v = out.decodeVersion(line, valueStart, i);
        if (Number.isNaN(v)) return false;
        out.version = v;
        out.versionStart = v === undefined ? -1 : valueStart;
        out.versionEnd = i;
      }
    }
    i = skipWs(line, i, end);
    const c = line[i];
    if (i < end && c === COMMA) {
      i = skipWs(line, i + 1, end);
      continue;
    }
    if (i >= end || c !== RBRACE) return false;
    return isRecord && haveStream && out.recordStart >= 0 && skipWs(line, i + 1, end) === end;
  }
}

/**
 * Scans each line of a batch of lines as scanSingerRecord does (`buf`'s lines start at `start`
 * and end at `ends`, see LineBatch), and writes what the sync session needs of each into `scan`,
 * SCAN_STRIDE ints per line: 1 for a RECORD the fast path takes (else 0), then the record's start
 * and end, 1 when it has a `_meta` key, the stream token's start and end, and the version
 * token's start and end (-1 when it has none). A pure function of the bytes, so it may run in
 * another thread than the session's (see ../scanWorker.ts).
 */
export function scanSingerBatch(buf: Buffer, start: number, ends: Int32Array, scan: Int32Array): void {
  const span = BATCH_SPAN;
  for (let k = 0, at = 0; k < ends.length; k++, at += SCAN_STRIDE) {
    const newline = ends[k]!;
    const end = newline > start && buf[newline - 1] === 0x0d ? newline - 1 : newline;
    if (scanSingerRecord(buf, span, start, end)) {
      scan[at] = 1;
      scan[at + 1] = span.recordStart;
      scan[at + 2] = span.recordEnd;
      scan[at + 3] = span.hasMeta ? 1 : 0;
      scan[at + 4] = span.streamStart;
      scan[at + 5] = span.streamEnd;
      scan[at + 6] = span.versionStart;
      scan[at + 7] = span.versionEnd;
    } else scan[at] = 0;
    start = newline + 1;
  }
}
const BATCH_SPAN = new SingerRecordSpan();

/** Fills `out` from line `k` of a batch's scan; false when the line is not a RECORD the fast path takes. */
export function singerSpanFromScan(buf: Buffer, scan: Int32Array, k: number, out: SingerRecordSpan): boolean {
  const at = k * SCAN_STRIDE;
  if (scan[at] !== 1) return false;
  out.recordStart = scan[at + 1]!;
  out.recordEnd = scan[at + 2]!;
  out.hasMeta = scan[at + 3] === 1;
  out.stream = out.decodeStream(buf, scan[at + 4]!, scan[at + 5]!);
  const v = scan[at + 6]!;
  out.version = v < 0 ? undefined : out.decodeVersion(buf, v, scan[at + 7]!);
  return true;
}
