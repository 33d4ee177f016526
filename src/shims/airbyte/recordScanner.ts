/**
 * The RECORD fast path: finds a RECORD line's stream, namespace and the exact text of its `data`
 * object without parsing the line, so the shim can hand that text to Flow with `_meta` spliced
 * in, instead of `JSON.parse` + `JSON.stringify` of every record (which is also lossy: integers
 * beyond 2^53 would be rounded; here they pass through byte for byte).
 *
 * The scanner walks the envelope's structure exactly (keys, strings with escapes, nesting) and
 * checks what it skips: brackets must match, strings must end, and nothing but JSON's literal
 * characters may appear outside strings. It does not check the grammar of every scalar (`1.2.3`
 * passes), which Flow's runtime checks when it parses the document. Anything it does not
 * recognize as a plain RECORD (another message type, a `data` that is not an object, escaped
 * key names, nesting deeper than 31 levels) returns false, and the caller parses the line.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const COLON = 0x3a;
const COMMA = 0x2c;
const MAX_DEPTH = 31;

/** 1: whitespace; 2: a character of a number or of true/false/null. */
const CLASS = new Uint8Array(128);
for (const c of [0x20, 0x09, 0x0a, 0x0d]) CLASS[c] = 1;
for (const ch of "0123456789+-.eEtrufalsn") CLASS[ch.charCodeAt(0)] = 2;

/** Where a RECORD's parts are in its line. Reused from line to line (no allocation per record). */
export class RecordSpan {
  stream = "";
  /** The record's namespace, or null when it has none (absent or null). */
  namespace: string | null = null;
  /** Offset of the `{` that opens `data`. */
  dataStart = -1;
  /** Offset just past the `}` that closes `data`. */
  dataEnd = -1;
}

function skipWs(s: string, i: number): number {
  for (;;) {
    const c = s.charCodeAt(i);
    if (c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a) i++;
    else return i;
  }
}

/** `s[i]` is a quote; returns the offset past the closing quote, or -1. */
function skipString(s: string, i: number): number {
  const n = s.length;
  for (i++; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === QUOTE) return i + 1;
    if (c === BACKSLASH) i++;
    else if (c < 0x20) return -1;
  }
  return -1;
}

/** `s[i]` opens an object or an array; returns the offset past its end, or -1. */
function skipComposite(s: string, i: number): number {
  const n = s.length;
  let stack = 0; // one bit per level: 1 for an object, 0 for an array
  let depth = 0;
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === QUOTE) {
      const end = skipString(s, i);
      if (end < 0) return -1;
      i = end - 1;
    } else if (c === LBRACE || c === LBRACKET) {
      if (depth === MAX_DEPTH) return -1;
      stack = (stack << 1) | (c === LBRACE ? 1 : 0);
      depth++;
    } else if (c === RBRACE || c === RBRACKET) {
      if (depth === 0 || (stack & 1) !== (c === RBRACE ? 1 : 0)) return -1;
      stack >>>= 1;
      if (--depth === 0) return i + 1;
    } else if (c !== COMMA && c !== COLON && (c >= 128 || CLASS[c] === 0)) {
      return -1;
    }
  }
  return -1;
}

/** Skips any JSON value at `s[i]`; returns the offset past it, or -1. */
function skipValue(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c === QUOTE) return skipString(s, i);
  if (c === LBRACE || c === LBRACKET) return skipComposite(s, i);
  const start = i;
  for (;;) {
    const d = s.charCodeAt(i);
    if (d < 128 && CLASS[d] === 2) i++;
    else break;
  }
  return i > start ? i : -1;
}

/** The value of the string token `s[start, end)`, quotes included. */
function stringValue(s: string, start: number, end: number): string {
  const raw = s.slice(start + 1, end - 1);
  return raw.indexOf("\\") < 0 ? raw : (JSON.parse(s.slice(start, end)) as string);
}

/** True when the key token at `s[keyStart]` (its opening quote) of length `keyLen` is `name`. */
function keyIs(s: string, keyStart: number, keyLen: number, name: string): boolean {
  return keyLen === name.length && s.startsWith(name, keyStart + 1);
}

/** Reads the `record` object at `s[i]` into `out`; returns the offset past it, or -1. */
function scanRecordObject(s: string, i: number, out: RecordSpan): number {
  if (s.charCodeAt(i) !== LBRACE) return -1;
  let haveStream = false;
  out.namespace = null;
  out.dataStart = -1;
  i = skipWs(s, i + 1);
  if (s.charCodeAt(i) === RBRACE) return -1;
  for (;;) {
    if (s.charCodeAt(i) !== QUOTE) return -1;
    const keyStart = i;
    const keyEnd = skipString(s, i);
    if (keyEnd < 0) return -1;
    const keyLen = keyEnd - keyStart - 2;
    i = skipWs(s, keyEnd);
    if (s.charCodeAt(i) !== COLON) return -1;
    i = skipWs(s, i + 1);
    const valueStart = i;
    i = skipValue(s, i);
    if (i < 0) return -1;
    if (keyIs(s, keyStart, keyLen, "data")) {
      if (s.charCodeAt(valueStart) !== LBRACE) return -1;
      out.dataStart = valueStart;
      out.dataEnd = i;
    } else if (keyIs(s, keyStart, keyLen, "stream")) {
      if (s.charCodeAt(valueStart) !== QUOTE) return -1;
      out.stream = stringValue(s, valueStart, i);
      haveStream = true;
    } else if (keyIs(s, keyStart, keyLen, "namespace")) {
      const c = s.charCodeAt(valueStart);
      if (c === QUOTE) out.namespace = stringValue(s, valueStart, i) || null;
      else if (!(i - valueStart === 4 && s.startsWith("null", valueStart))) return -1;
    }
    i = skipWs(s, i);
    const c = s.charCodeAt(i);
    if (c === COMMA) {
      i = skipWs(s, i + 1);
      continue;
    }
    if (c === RBRACE) return haveStream && out.dataStart >= 0 ? i + 1 : -1;
    return -1;
  }
}

/**
 * Scans `line` as an Airbyte RECORD message. Returns true and fills `out` when it is one that
 * the fast path can take; false for anything else (which the caller then parses as JSON).
 */
export function scanRecord(line: string, out: RecordSpan): boolean {
  let i = skipWs(line, 0);
  if (line.charCodeAt(i) !== LBRACE) return false;
  i = skipWs(line, i + 1);
  let isRecord = false;
  let sawRecord = false;
  for (;;) {
    if (line.charCodeAt(i) !== QUOTE) return false;
    const keyStart = i;
    const keyEnd = skipString(line, i);
    if (keyEnd < 0) return false;
    const keyLen = keyEnd - keyStart - 2;
    i = skipWs(line, keyEnd);
    if (line.charCodeAt(i) !== COLON) return false;
    i = skipWs(line, i + 1);
    if (keyIs(line, keyStart, keyLen, "type")) {
      if (!line.startsWith('"RECORD"', i)) return false;
      isRecord = true;
      i += 8;
    } else if (keyIs(line, keyStart, keyLen, "record")) {
      i = scanRecordObject(line, i, out);
      if (i < 0) return false;
      sawRecord = true;
    } else {
      i = skipValue(line, i);
      if (i < 0) return false;
    }
    i = skipWs(line, i);
    const c = line.charCodeAt(i);
    if (c === COMMA) {
      i = skipWs(line, i + 1);
      continue;
    }
    if (c !== RBRACE) return false;
    return isRecord && sawRecord && skipWs(line, i + 1) === line.length;
  }
}

/**
 * `data`'s text with `"_meta":<metaJson>` added as its last property. `s[dataStart, dataEnd)`
 * is an object; whitespace inside it is kept.
 */
export function spliceMeta(s: string, dataStart: number, dataEnd: number, metaJson: string): string {
  const close = dataEnd - 1; // the closing brace
  let j = close - 1;
  for (;;) {
    const c = s.charCodeAt(j);
    if (c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a) j--;
    else break;
  }
  const empty = s.charCodeAt(j) === LBRACE;
  return s.slice(dataStart, close) + (empty ? '"_meta":' : ',"_meta":') + metaJson + "}";
}
