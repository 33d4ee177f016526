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
  /**
   * The envelope of the last RECORD line scanned whole, up to its `record` object (its bytes,
   * and the stream and version they name): most taps write every record of a stream behind the
   * same bytes, which are then compared, not walked again. Empty when there is none.
   */
  prefix: Buffer = EMPTY;
  prefixStream = "";
  prefixVersion: number | undefined = undefined;
  /** The prefix held the version member. */
  prefixHasVersion = false;
  /** The prefix did not hold the type member (it comes after the record). */
  prefixNeedsType = false;
  /** Set by the last whole scan: which members came before `record`. */
  before = { type: false, stream: false, version: false };
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
const EMPTY = Buffer.alloc(0);

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
 *
 * A line that starts with the same bytes as the last RECORD line, up to its `record` object (see
 * SingerRecordSpan.prefix), has only its record and what follows it walked: the same bytes hold
 * the same members, and everything else is checked as a whole scan checks it.
 */
export function scanSingerRecord(line: Buffer, out: SingerRecordSpan, start = 0, end: number = line.length): boolean {
  const prefix = out.prefix;
  const recordStart = start + prefix.length;
  if (prefix.length > 0 && recordStart < end && line[recordStart] === LBRACE && line.compare(prefix, 0, prefix.length, start, recordStart) === 0) {
    META.hasMeta = false;
    const recordEnd = skipComposite(line, recordStart, META, end);
    if (recordEnd < 0) return false;
    out.version = out.prefixVersion;
    const rest = afterRecord(line, recordEnd, end, out.prefixNeedsType, out.prefixHasVersion, out);
    if (rest === 0) return false;
    if (rest === 1) {
      out.stream = out.prefixStream;
      out.recordStart = recordStart;
      out.recordEnd = recordEnd;
      out.hasMeta = META.hasMeta;
      return true;
    }
    // A member the prefix already had comes again after the record: the whole scan decides.
  }
  if (!scanWhole(line, out, start, end)) return false;
  // The envelope up to the record is remembered when it alone names the stream (and the version,
  // if it holds it): nothing after the record does.
  const { before } = out;
  if (before.type && before.stream) {
    const version = out.version;
    if (afterRecord(line, out.recordEnd, end, false, before.version, out) === 1) {
      const length = out.recordStart - start;
      if (length !== prefix.length || line.compare(prefix, 0, length, start, out.recordStart) !== 0) out.prefix = Buffer.from(line.subarray(start, out.recordStart));
      out.prefixStream = out.stream;
      out.prefixHasVersion = before.version;
      out.prefixVersion = before.version ? version : undefined;
      out.prefixNeedsType = false;
    }
    out.version = version;
  }
  return true;
}

/**
 * Walks what follows a RECORD's `record` object at `b[i]` on a line whose envelope matched the
 * last one's up to it: the envelope's remaining members and closing brace, then only whitespace
 * to `end`; a version among them goes to `out.version`. 1: a RECORD the fast path takes; 0: not
 * one; -1: a member that decides the record (record, stream, a second type or version, a key
 * written with escapes) comes here, so the whole scan must decide.
 */
function afterRecord(b: Buffer, i: number, end: number, needType: boolean, haveVersion: boolean, out: SingerRecordSpan): number {
  for (;;) {
    i = skipWs(b, i, end);
    if (i >= end) return 0;
    if (b[i] === RBRACE) return !needType && skipWs(b, i + 1, end) === end ? 1 : 0;
    if (b[i] !== COMMA) return 0;
    i = skipWs(b, i + 1, end);
    if (i >= end || b[i] !== QUOTE) return 0;
    const keyStart = i;
    const keyEnd = skipString(b, i, end);
    if (keyEnd < 0) return 0;
    if (hasEscape(b, keyStart, keyEnd)) return -1;
    const key = envelopeKey(b, keyStart, keyEnd);
    i = skipWs(b, keyEnd, end);
    if (b[i] !== COLON) return 0;
    const valueStart = skipWs(b, i + 1, end);
    i = skipValue(b, valueStart, end);
    if (i < 0) return 0;
    if (key === "record" || key === "stream") return -1;
    if (key === "type") {
      if (!needType) return -1;
      if (b[valueStart] !== QUOTE || !tokenIsCaseless(b, valueStart, i, "RECORD")) return 0;
      needType = false;
    } else if (key === "version") {
      if (haveVersion) return -1;
      const v = out.decodeVersion(b, valueStart, i);
      if (Number.isNaN(v)) return 0;
      out.version = v;
      haveVersion = true;
    }
  }
}

/** scanSingerRecord without the prefix: the whole line is walked. */
function scanWhole(line: Buffer, out: SingerRecordSpan, start: number, end: number): boolean {
  let i = skipWs(line, start, end);
  if (line[i] !== LBRACE) return false;
  i = skipWs(line, i + 1, end);
  let isRecord = false;
  let haveStream = false;
  const before = out.before;
  before.type = before.stream = before.version = false;
  out.recordStart = -1;
  out.version = undefined;
  for (;;) {
    if (i >= end || line[i] !== QUOTE) return false;
    const keyStart = i;
    const keyEnd = skipString(line, i, end);
    if (keyEnd < 0) return false;
    i = skipWs(line, keyEnd, end);
    if (line[i] !== COLON) return false;
    const valueStart = skipWs(line, i + 1, end);
    const key = envelopeKey(line, keyStart, keyEnd);
    const beforeRecord = out.recordStart < 0;
    if (key === "record") {
      if (line[valueStart] !== LBRACE || !beforeRecord) return false;
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
        if (beforeRecord) before.type = true;
      } else if (key === "stream") {
        if (line[valueStart] !== QUOTE) return false;
        out.stream = out.decodeStream(line, valueStart, i);
        haveStream = true;
        if (beforeRecord) before.stream = true;
      } else if (key === "version") {
        const v = out.decodeVersion(line, valueStart, i);
        if (Number.isNaN(v)) return false;
        out.version = v;
        if (beforeRecord) before.version = true;
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
