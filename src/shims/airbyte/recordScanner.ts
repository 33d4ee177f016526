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
import { COLON, COMMA, LBRACE, QUOTE, RBRACE, TokenCache, keyIs, newMetaFlag, skipComposite, skipString, skipValue, skipWs, startsWith, stringValue } from "../jsonBytes.js";

const RECORD_VALUE = Buffer.from('"RECORD"');
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

  /** The string token `b[start, end)` (quotes included), decoded, reusing the last one when the bytes repeat. */
  streamOf(b: Buffer, start: number, end: number): string {
    return this.names.decode(b, start, end);
  }
}

/** Reads the `record` object at `b[i]` into `out`; returns the offset past it, or -1. */
function scanRecordObject(b: Buffer, i: number, out: RecordSpan): number {
  if (b[i] !== LBRACE) return -1;
  let haveStream = false;
  out.namespace = null;
  out.dataStart = -1;
  i = skipWs(b, i + 1);
  if (b[i] === RBRACE) return -1;
  for (;;) {
    if (b[i] !== QUOTE) return -1;
    const keyStart = i;
    const keyEnd = skipString(b, i);
    if (keyEnd < 0) return -1;
    const keyLen = keyEnd - keyStart - 2;
    i = skipWs(b, keyEnd);
    if (b[i] !== COLON) return -1;
    i = skipWs(b, i + 1);
    const valueStart = i;
    const isData = keyIs(b, keyStart, keyLen, "data");
    if (isData && b[valueStart] !== LBRACE) return -1;
    if (isData) META.hasMeta = false;
    i = isData ? skipComposite(b, i, META) : skipValue(b, i);
    if (isData) out.hasMeta = META.hasMeta;
    if (i < 0) return -1;
    if (isData) {
      out.dataStart = valueStart;
      out.dataEnd = i;
    } else if (keyIs(b, keyStart, keyLen, "stream")) {
      if (b[valueStart] !== QUOTE) return -1;
      out.stream = out.streamOf(b, valueStart, i);
      haveStream = true;
    } else if (keyIs(b, keyStart, keyLen, "namespace")) {
      if (b[valueStart] === QUOTE) out.namespace = stringValue(b, valueStart, i) || null;
      else if (!(i - valueStart === 4 && startsWith(b, valueStart, NULL))) return -1;
    }
    i = skipWs(b, i);
    const c = b[i];
    if (c === COMMA) {
      i = skipWs(b, i + 1);
      continue;
    }
    if (c === RBRACE) return haveStream && out.dataStart >= 0 ? i + 1 : -1;
    return -1;
  }
}

/**
 * Scans the UTF-8 bytes of `line` as an Airbyte RECORD message. Returns true and fills `out`
 * when it is one the fast path can take; false for anything else (which the caller then
 * decodes and parses).
 */
export function scanRecord(line: Buffer, out: RecordSpan): boolean {
  let i = skipWs(line, 0);
  if (line[i] !== LBRACE) return false;
  i = skipWs(line, i + 1);
  let isRecord = false;
  let sawRecord = false;
  for (;;) {
    if (line[i] !== QUOTE) return false;
    const keyStart = i;
    const keyEnd = skipString(line, i);
    if (keyEnd < 0) return false;
    const keyLen = keyEnd - keyStart - 2;
    i = skipWs(line, keyEnd);
    if (line[i] !== COLON) return false;
    i = skipWs(line, i + 1);
    if (keyIs(line, keyStart, keyLen, "type")) {
      if (!startsWith(line, i, RECORD_VALUE)) return false;
      isRecord = true;
      i += RECORD_VALUE.length;
    } else if (keyIs(line, keyStart, keyLen, "record")) {
      i = scanRecordObject(line, i, out);
      if (i < 0) return false;
      sawRecord = true;
    } else {
      i = skipValue(line, i);
      if (i < 0) return false;
    }
    i = skipWs(line, i);
    const c = line[i];
    if (c === COMMA) {
      i = skipWs(line, i + 1);
      continue;
    }
    if (c !== RBRACE) return false;
    return isRecord && sawRecord && skipWs(line, i + 1) === line.length;
  }
}
