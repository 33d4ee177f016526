/**
 * The Singer RECORD fast path: finds a RECORD line's stream, its `version`, and the exact bytes
 * of its `record` object without parsing the line, so the shim hands those bytes to Flow with
 * `_meta` spliced in: no decoding, no `JSON.parse`/`JSON.stringify` per record, and integers
 * beyond 2^53 pass through exactly. The type is matched in any case (`"record"` too), keys in any
 * order, nesting at any depth, keys written with escapes included. A line that is not a
 * well-formed RECORD returns false, and the caller reads it the slow way.
 *
 * Like the Airbyte scanner, this module keeps its own copy of the byte walkers of
 * `../jsonBytes.ts`: with the walkers shared, the record path measured 5 to 10% slower
 * (bench/singer.mjs and bench/airbyte.mjs, Node 20).
 */
import { TokenCache } from "../jsonBytes.js";

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

/** Set by `skipComposite` when one of the object's own keys (or top-level strings) is `"_meta"`. */
interface MetaFlag {
  hasMeta: boolean;
}

/** The offset of the first byte at or after `i` that is not JSON whitespace. */
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
 * notes in `meta.hasMeta` whether one of its top-level strings is `"_meta"` (for a record: a key
 * the shim must merge into rather than add).
 */
function skipComposite(b: Uint8Array, i: number, meta: MetaFlag | null = null): number {
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

/** True when the key token at `b[keyStart]` (its opening quote), `keyLen` bytes long without quotes, is the ASCII `name`. */
function keyIs(b: Uint8Array, keyStart: number, keyLen: number, name: string): boolean {
  if (keyLen !== name.length) return false;
  for (let i = 0; i < keyLen; i++) if (b[keyStart + 1 + i] !== name.charCodeAt(i)) return false;
  return true;
}

/**
 * True when the string token `b[start, end)` (quotes included) is the ASCII `upper` in any case:
 * `"record"`, `"RECORD"` and `"Record"` all match `RECORD`. Escaped tokens do not match.
 */
function tokenIsCaseless(b: Uint8Array, start: number, end: number, upper: string): boolean {
  if (end - start - 2 !== upper.length) return false;
  for (let i = 0; i < upper.length; i++) {
    const c = b[start + 1 + i]!;
    if ((c >= 0x61 && c <= 0x7a ? c - 0x20 : c) !== upper.charCodeAt(i)) return false;
  }
  return true;
}

/** True when the string token `b[start, end)` holds an escape. */
function hasEscape(b: Uint8Array, start: number, end: number): boolean {
  for (let i = start + 1; i < end - 1; i++) if (b[i] === BACKSLASH) return true;
  return false;
}



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
      out.hasMeta = false;
      i = skipComposite(line, valueStart, out);
      if (i < 0) return false;
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
