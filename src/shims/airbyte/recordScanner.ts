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
 * The walkers below are also in `../jsonBytes.ts` (for the shims' other uses) and in the Singer
 * scanner, on purpose: a scanner whose hot loop calls walkers shared with other code, imported
 * or in a common module, measured 8 to 10% slower end to end (bench/airbyte.mjs, Node 20).
 */
import { TokenCache } from "../jsonBytes.js";

export { spliceMeta } from "../jsonBytes.js";

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const COLON = 0x3a;
const COMMA = 0x2c;
/** Levels tracked in one integer's bits; deeper levels go to an array. */
const BIT_DEPTH = 31;

/**
 * What a byte is outside strings: 0 not allowed (every byte from 0x80 up, too: JSON allows
 * non-ASCII only inside strings), 1 whitespace, `,`, `:` or a character of a number or of
 * true/false/null, 2 a quote, 3 `{`, 4 `[`, 5 `}`, 6 `]`.
 */
const TOKEN = new Uint8Array(256);
for (const ch of " \t\r\n,:0123456789+-.eEtrufalsn") TOKEN[ch.charCodeAt(0)] = 1;
TOKEN[QUOTE] = 2;
TOKEN[LBRACE] = 3;
TOKEN[LBRACKET] = 4;
TOKEN[RBRACE] = 5;
TOKEN[RBRACKET] = 6;

/** The bytes of a scalar: a number, or true/false/null. */
const SCALAR = new Uint8Array(256);
for (const ch of "0123456789+-.eEtrufalsn") SCALAR[ch.charCodeAt(0)] = 1;

const RECORD_VALUE = Buffer.from('"RECORD"');
const NULL = Buffer.from("null");

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

function skipWs(b: Uint8Array, i: number): number {
  for (;;) {
    const c = b[i];
    if (c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a) i++;
    else return i;
  }
}

/** `b[i]` is a quote; returns the offset past the closing quote, or -1. */
function skipString(b: Uint8Array, i: number): number {
  const n = b.length;
  for (i++; i < n; i++) {
    const c = b[i]!;
    if (c === QUOTE) return i + 1;
    if (c === BACKSLASH) i++;
  }
  return -1;
}

/**
 * `b[i]` opens an object or an array; returns the offset past its end, or -1. With `meta`, also
 * notes in `meta.hasMeta` whether one of its top-level strings is `"_meta"` (for the record's
 * `data`: a key the shim must merge into rather than add).
 */
function skipComposite(b: Uint8Array, i: number, meta: RecordSpan | null = null): number {
  const n = b.length;
  let stack = 0; // one bit per level up to BIT_DEPTH: 1 for an object, 0 for an array
  let deep: number[] | undefined; // the kinds of the levels beyond
  let depth = 0;
  while (i < n) {
    switch (TOKEN[b[i]!]) {
      case 1:
        i++;
        continue;
      case 2: {
        const start = i;
        for (i++; i < n; i++) {
          const c = b[i];
          if (c === QUOTE) break;
          if (c === BACKSLASH) i++;
        }
        i++;
        // "_meta": 7 bytes, quotes included.
        if (meta !== null && depth === 1 && i - start === 7 && b[start + 1] === 0x5f && b[start + 2] === 0x6d && b[start + 3] === 0x65 && b[start + 4] === 0x74 && b[start + 5] === 0x61) {
          meta.hasMeta = true;
        }
        continue;
      }
      // Opening and closing are written out per bracket: this loop is the record path's hottest.
      case 3:
        if (depth < BIT_DEPTH) stack = (stack << 1) | 1;
        else (deep ??= []).push(1);
        depth++;
        i++;
        continue;
      case 4:
        if (depth < BIT_DEPTH) stack = stack << 1;
        else (deep ??= []).push(0);
        depth++;
        i++;
        continue;
      case 5:
        if (depth > BIT_DEPTH) {
          if (deep!.pop() !== 1) return -1;
        } else {
          if ((stack & 1) !== 1) return -1;
          stack >>>= 1;
        }
        i++;
        if (--depth === 0) return i;
        continue;
      case 6:
        if (depth === 0) return -1;
        if (depth > BIT_DEPTH) {
          if (deep!.pop() !== 0) return -1;
        } else {
          if ((stack & 1) !== 0) return -1;
          stack >>>= 1;
        }
        i++;
        if (--depth === 0) return i;
        continue;
      default:
        return -1;
    }
  }
  return -1;
}

/** Skips any JSON value at `b[i]`; returns the offset past it, or -1. */
function skipValue(b: Uint8Array, i: number): number {
  const c = b[i];
  if (c === QUOTE) return skipString(b, i);
  if (c === LBRACE || c === LBRACKET) return skipComposite(b, i);
  const start = i;
  while (i < b.length && SCALAR[b[i]!] === 1) i++;
  return i > start ? i : -1;
}

/** The value of the string token `b[start, end)`, quotes included. */
function stringValue(b: Buffer, start: number, end: number): string {
  for (let i = start + 1; i < end - 1; i++) {
    if (b[i] === BACKSLASH) return JSON.parse(b.toString("utf8", start, end)) as string;
  }
  return b.toString("utf8", start + 1, end - 1);
}

/** True when `b[at...]` starts with `bytes`. */
function startsWith(b: Uint8Array, at: number, bytes: Uint8Array): boolean {
  if (at + bytes.length > b.length) return false;
  for (let i = 0; i < bytes.length; i++) if (b[at + i] !== bytes[i]) return false;
  return true;
}

/** True when the key token at `b[keyStart]` (its opening quote), `keyLen` bytes long, is the ASCII `name`. */
function keyIs(b: Uint8Array, keyStart: number, keyLen: number, name: string): boolean {
  if (keyLen !== name.length) return false;
  for (let i = 0; i < keyLen; i++) if (b[keyStart + 1 + i] !== name.charCodeAt(i)) return false;
  return true;
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
    if (isData) out.hasMeta = false;
    i = isData ? skipComposite(b, i, out) : skipValue(b, i);
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
