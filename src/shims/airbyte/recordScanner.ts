/**
 * The RECORD fast path: finds a RECORD line's stream, namespace and the exact bytes of its `data`
 * object without parsing the line, so the shim hands those bytes to Flow with `_meta` spliced in
 * (`task.capturedBytes`), instead of decoding, `JSON.parse`-ing and `JSON.stringify`-ing every
 * record. It is also lossless: integers beyond 2^53, which `JSON.parse` rounds, pass through
 * byte for byte, as does every string.
 *
 * The scanner works on the line's UTF-8 bytes. It walks the envelope's structure exactly (keys,
 * strings with escapes, nesting to any depth) and checks what it skips: brackets must match,
 * strings must end, and nothing but JSON's literal characters may appear outside strings. It
 * does not check the grammar of every scalar (`1.2.3` passes) nor control characters inside
 * strings, which Flow's runtime checks when it parses the document. Anything it does not
 * recognize as a plain RECORD (another message type, a `data` that is not an object, escaped key
 * names) returns false, and the caller parses the line.
 *
 * The byte walkers are `../jsonBytes.ts`'s, shared with the Singer scanner (see newMetaFlag
 * there for what keeps them fast).
 */
import { BACKSLASH, COLON, COMMA, LBRACE, QUOTE, RBRACE, TokenCache, keyIs, newMetaFlag, skipComposite, skipString, skipValue, skipWs, startsWith, stringValue } from "../jsonBytes.js";

const RECORD_VALUE = Buffer.from('"RECORD"');
const EMPTY = Buffer.alloc(0);
const META = newMetaFlag();
const NULL = Buffer.from("null");

export { spliceMeta } from "../jsonBytes.js";

/** Where a RECORD's parts are in its line. Reused from line to line (no allocation per record). */
export class RecordSpan {
  stream = "";
  /** The record's namespace, or null when it has none (absent or null). */
  namespace: string | null = null;
  /** Offset of the `{` that opens `data`. */
  dataStart = -1;
  /** Offset just past the `}` that closes `data`. */
  dataEnd = -1;
  /** A top-level string of `data` is `"_meta"` (most likely its own `_meta` key). */
  hasMeta = false;
  /** Most records repeat the last stream name, which is then not decoded again. */
  private readonly names = new TokenCache();
  /**
   * The envelope of the last RECORD line scanned whole, up to its `data` object (its bytes, and
   * the stream and namespace they name): most sources write every record of a stream behind the
   * same bytes, which are then compared, not walked again. Empty when there is none.
   */
  prefix: Buffer = EMPTY;
  prefixStream = "";
  prefixNamespace: string | null = null;
  /** The prefix did not hold the `"type": "RECORD"` member (it comes after the record). */
  prefixNeedsType = false;
  /** Set by the last whole scan: where the members that came before `data` ended. */
  streamBeforeData = false;
  typeBeforeRecord = false;

  /** The string token `b[start, end)` (quotes included), decoded, reusing the last one when the bytes repeat. */
  streamOf(b: Buffer, start: number, end: number): string {
    return this.names.decode(b, start, end);
  }
}

/** Reads the `record` object at `b[i]` (before `end`) into `out`; returns the offset past it, or -1. */
function scanRecordObject(b: Buffer, i: number, end: number, out: RecordSpan): number {
  if (b[i] !== LBRACE) return -1;
  let haveStream = false;
  out.streamBeforeData = false;
  out.namespace = null;
  out.dataStart = -1;
  i = skipWs(b, i + 1, end);
  if (b[i] === RBRACE) return -1;
  for (;;) {
    if (i >= end || b[i] !== QUOTE) return -1;
    const keyStart = i;
    const keyEnd = skipString(b, i, end);
    if (keyEnd < 0) return -1;
    const keyLen = keyEnd - keyStart - 2;
    i = skipWs(b, keyEnd, end);
    if (b[i] !== COLON) return -1;
    i = skipWs(b, i + 1, end);
    const valueStart = i;
    if (keyIs(b, keyStart, keyLen, "data")) {
      if (b[valueStart] !== LBRACE || out.dataStart >= 0) return -1;
      out.streamBeforeData = haveStream;
      META.hasMeta = false;
      i = skipComposite(b, i, META, end);
      if (i < 0) return -1;
      out.hasMeta = META.hasMeta;
      out.dataStart = valueStart;
      out.dataEnd = i;
    } else {
      i = skipValue(b, i, end);
      if (i < 0) return -1;
      if (keyIs(b, keyStart, keyLen, "stream")) {
        if (b[valueStart] !== QUOTE) return -1;
        out.stream = out.streamOf(b, valueStart, i);
        haveStream = true;
      } else if (keyIs(b, keyStart, keyLen, "namespace")) {
        if (b[valueStart] === QUOTE) out.namespace = stringValue(b, valueStart, i) || null;
        else if (!(i - valueStart === 4 && startsWith(b, valueStart, NULL, end))) return -1;
      }
    }
    i = skipWs(b, i, end);
    const c = b[i];
    if (i < end && c === COMMA) {
      i = skipWs(b, i + 1, end);
      continue;
    }
    if (i < end && c === RBRACE) return haveStream && out.dataStart >= 0 ? i + 1 : -1;
    return -1;
  }
}

/**
 * Scans the UTF-8 bytes of `line` (or of the line `line[start, end)` of a buffer of lines) as an
 * Airbyte RECORD message. Returns true and fills `out` when it is one the fast path can take;
 * false for anything else (which the caller then decodes and parses). Nothing outside
 * `[start, end)` is read.
 *
 * A line that starts with the same bytes as the last RECORD line, up to its `data` object (see
 * RecordSpan.prefix), has only its data and what follows it walked: the same bytes hold the same
 * members, and everything else is checked as a whole scan checks it.
 */
export function scanRecord(line: Buffer, out: RecordSpan, start = 0, end: number = line.length): boolean {
  const prefix = out.prefix;
  const dataStart = start + prefix.length;
  if (prefix.length > 0 && dataStart < end && line[dataStart] === LBRACE && line.compare(prefix, 0, prefix.length, start, dataStart) === 0) {
    META.hasMeta = false;
    const dataEnd = skipComposite(line, dataStart, META, end);
    if (dataEnd < 0) return false;
    const rest = afterData(line, dataEnd, end, out.prefixNeedsType);
    if (rest === 0) return false;
    if (rest === 1) {
      out.stream = out.prefixStream;
      out.namespace = out.prefixNamespace;
      out.dataStart = dataStart;
      out.dataEnd = dataEnd;
      out.hasMeta = META.hasMeta;
      return true;
    }
    // A member the prefix already had comes again after data: the whole scan decides.
  }
  if (!scanWhole(line, out, start, end)) return false;
  // The envelope up to data is remembered when it alone names the record: nothing after data does.
  if (out.streamBeforeData && afterData(line, out.dataEnd, end, !out.typeBeforeRecord) === 1) {
    const length = out.dataStart - start;
    if (length !== prefix.length || line.compare(prefix, 0, length, start, out.dataStart) !== 0) out.prefix = Buffer.from(line.subarray(start, out.dataStart));
    out.prefixStream = out.stream;
    out.prefixNamespace = out.namespace;
    out.prefixNeedsType = !out.typeBeforeRecord;
  }
  return true;
}

/**
 * Walks what follows a RECORD's `data` object at `b[i]` on a line whose envelope matched the
 * last one's up to it: the record object's remaining members and closing brace, then the
 * envelope's, then only whitespace to `end`. 1: a RECORD the fast path takes; 0: not one; -1:
 * a member that decides the record (data, stream, namespace, record, a second type, or a key
 * written with escapes) comes here, so the whole scan must decide.
 */
function afterData(b: Buffer, i: number, end: number, needType: boolean): number {
  for (;;) {
    i = skipWs(b, i, end);
    if (i >= end) return 0;
    if (b[i] === RBRACE) break;
    if (b[i] !== COMMA) return 0;
    const member = memberAfter(b, skipWs(b, i + 1, end), end);
    if (member < 0) return member === -2 ? -1 : 0;
    if (keyIs(b, MEMBER.keyStart, MEMBER.keyLen, "data") || keyIs(b, MEMBER.keyStart, MEMBER.keyLen, "stream") || keyIs(b, MEMBER.keyStart, MEMBER.keyLen, "namespace")) return -1;
    i = skipValue(b, member, end);
    if (i < 0) return 0;
  }
  for (i++; ; ) {
    i = skipWs(b, i, end);
    if (i >= end) return 0;
    if (b[i] === RBRACE) return !needType && skipWs(b, i + 1, end) === end ? 1 : 0;
    if (b[i] !== COMMA) return 0;
    const member = memberAfter(b, skipWs(b, i + 1, end), end);
    if (member < 0) return member === -2 ? -1 : 0;
    if (keyIs(b, MEMBER.keyStart, MEMBER.keyLen, "record")) return -1;
    if (keyIs(b, MEMBER.keyStart, MEMBER.keyLen, "type")) {
      if (!needType) return -1;
      if (!startsWith(b, member, RECORD_VALUE, end)) return 0;
      needType = false;
      i = member + RECORD_VALUE.length;
    } else {
      i = skipValue(b, member, end);
      if (i < 0) return 0;
    }
  }
}

/** The key of the member memberAfter read last. */
const MEMBER = { keyStart: 0, keyLen: 0 };

/** Reads a member's key and colon at `b[i]`: the offset of its value; -1 when it is not well formed, -2 for a key written with escapes. */
function memberAfter(b: Buffer, i: number, end: number): number {
  if (i >= end || b[i] !== QUOTE) return -1;
  const keyEnd = skipString(b, i, end);
  if (keyEnd < 0) return -1;
  for (let j = i + 1; j < keyEnd - 1; j++) if (b[j] === BACKSLASH) return -2;
  MEMBER.keyStart = i;
  MEMBER.keyLen = keyEnd - i - 2;
  const colon = skipWs(b, keyEnd, end);
  if (b[colon] !== COLON) return -1;
  return skipWs(b, colon + 1, end);
}

/** scanRecord without the prefix: the whole line is walked. */
function scanWhole(line: Buffer, out: RecordSpan, start: number, end: number): boolean {
  let i = skipWs(line, start, end);
  if (line[i] !== LBRACE) return false;
  i = skipWs(line, i + 1, end);
  let isRecord = false;
  let sawRecord = false;
  out.typeBeforeRecord = false;
  for (;;) {
    if (i >= end || line[i] !== QUOTE) return false;
    const keyStart = i;
    const keyEnd = skipString(line, i, end);
    if (keyEnd < 0) return false;
    const keyLen = keyEnd - keyStart - 2;
    i = skipWs(line, keyEnd, end);
    if (line[i] !== COLON) return false;
    i = skipWs(line, i + 1, end);
    if (keyIs(line, keyStart, keyLen, "type")) {
      if (!startsWith(line, i, RECORD_VALUE, end)) return false;
      isRecord = true;
      if (!sawRecord) out.typeBeforeRecord = true;
      i += RECORD_VALUE.length;
    } else if (keyIs(line, keyStart, keyLen, "record")) {
      if (sawRecord) return false;
      i = scanRecordObject(line, i, end, out);
      if (i < 0) return false;
      sawRecord = true;
    } else {
      i = skipValue(line, i, end);
      if (i < 0) return false;
    }
    i = skipWs(line, i, end);
    const c = line[i];
    if (i < end && c === COMMA) {
      i = skipWs(line, i + 1, end);
      continue;
    }
    if (i >= end || c !== RBRACE) return false;
    return isRecord && sawRecord && skipWs(line, i + 1, end) === end;
  }
}
