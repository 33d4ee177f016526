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
 * Scans the UTF-8 bytes of `line` as a Singer RECORD message. Returns true and fills `out` when
 * it is a well-formed one (a string `stream`, an object `record`, a numeric or null `version`);
 * false for anything else.
 */
export function scanSingerRecord(line: Buffer, out: SingerRecordSpan): boolean {
  let i = skipWs(line, 0);
  if (line[i] !== LBRACE) return false;
  i = skipWs(line, i + 1);
  let isRecord = false;
  let haveStream = false;
  out.recordStart = -1;
  out.version = undefined;
  for (;;) {
    if (line[i] !== QUOTE) return false;
    const keyStart = i;
    const keyEnd = skipString(line, i);
    if (keyEnd < 0) return false;
    i = skipWs(line, keyEnd);
    if (line[i] !== COLON) return false;
    const valueStart = skipWs(line, i + 1);
    const key = envelopeKey(line, keyStart, keyEnd);
    if (key === "record") {
      if (line[valueStart] !== LBRACE) return false;
      META.hasMeta = false;
      i = skipComposite(line, valueStart, META);
      if (i < 0) return false;
      out.hasMeta = META.hasMeta;
      out.recordStart = valueStart;
      out.recordEnd = i;
    } else {
      i = skipValue(line, valueStart);
      if (i < 0) return false;
      if (key === "type") {
        if (line[valueStart] !== QUOTE || !tokenIsCaseless(line, valueStart, i, "RECORD")) return false;
        isRecord = true;
      } else if (key === "stream") {
        if (line[valueStart] !== QUOTE) return false;
        out.stream = out.decodeStream(line, valueStart, i);
        haveStream = true;
      } else if (key === "version") {
        const v = out.decodeVersion(line, valueStart, i);
        if (Number.isNaN(v)) return false;
        out.version = v;
      }
    }
    i = skipWs(line, i);
    const c = line[i];
    if (c === COMMA) {
      i = skipWs(line, i + 1);
      continue;
    }
    if (c !== RBRACE) return false;
    return isRecord && haveStream && out.recordStart >= 0 && skipWs(line, i + 1) === line.length;
  }
}
