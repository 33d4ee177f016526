/**
 * Reading JSON text as UTF-8 bytes without parsing it, for what the shims read of a child's
 * output besides the RECORD fast path: a STATE's members, a record's key values, BATCH lines. A
 * shim finds where a value starts and ends in the line and keeps those bytes, instead of
 * decoding, `JSON.parse`-ing and `JSON.stringify`-ing: integers beyond 2^53, which `JSON.parse`
 * rounds, and every string stay exact. The RECORD scanners of both shims walk with these same
 * functions (one implementation: the copies they once kept drifted apart; BENCHMARKS.md has the
 * measurements).
 *
 * The walkers follow JSON's structure exactly (keys, strings with escapes, nesting to any depth)
 * and check what they skip: brackets must match, strings must end, and nothing but JSON's literal
 * characters may appear outside strings. They do not check the grammar of every scalar (`1.2.3`
 * passes) nor control characters inside strings, which Flow's runtime checks when it parses the
 * document. Every function returns -1 (or undefined) for text it cannot walk, and callers then
 * fall back to `JSON.parse` or report the line.
 */

export const QUOTE = 0x22;
export const BACKSLASH = 0x5c;
export const LBRACE = 0x7b;
export const RBRACE = 0x7d;
export const LBRACKET = 0x5b;
export const RBRACKET = 0x5d;
export const COLON = 0x3a;
export const COMMA = 0x2c;

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

/** Inside a string: 1 for the quote that ends it, 2 for a backslash (which escapes the next byte), 0 for the rest. */
const IN_STRING = new Uint8Array(256);
IN_STRING[QUOTE] = 1;
IN_STRING[BACKSLASH] = 2;

/** The bytes of a scalar: a number, or true/false/null. */
const SCALAR = new Uint8Array(256);
for (const ch of "0123456789+-.eEtrufalsn") SCALAR[ch.charCodeAt(0)] = 1;

/** Set by `skipComposite` when one of the object's own keys (or top-level strings) is `"_meta"`. */
export interface MetaFlag {
  hasMeta: boolean;
}

// Every walker reads `b[i, end)` only: `end` defaults to the end of `b`, and a caller reading one
// line of a buffer of many lines passes the line's end, so a broken line is never read past.

/** The offset of the first byte at or after `i` (and before `end`) that is not JSON whitespace. */
export function skipWs(b: Uint8Array, i: number, end: number = b.length): number {
  while (i < end) {
    const c = b[i];
    if (c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a) i++;
    else return i;
  }
  return i;
}

/** `b[i]` is a quote; returns the offset past the closing quote, or -1. */
export function skipString(b: Uint8Array, i: number, end: number = b.length): number {
  for (i++; i < end; i++) {
    const t = IN_STRING[b[i]!];
    if (t === 1) return i + 1;
    if (t === 2) i++;
  }
  return -1;
}

/**
 * A fresh flag for skipComposite. Every caller passes one made here, so the flag objects share
 * one shape and the hot loop's `meta.hasMeta` stays monomorphic (passing the scanners' own span
 * objects instead measured 8 to 10% slower on the record path).
 */
export function newMetaFlag(): MetaFlag {
  return { hasMeta: false };
}

/**
 * `b[i]` opens an object or an array; returns the offset past its end, or -1. With `meta`, also
 * notes in `meta.hasMeta` whether one of its top-level strings is `"_meta"` (for a record: a key
 * the shim must merge into rather than add).
 */
export function skipComposite(b: Uint8Array, i: number, meta: MetaFlag | null = null, end: number = b.length): number {
  let stack = 0; // one bit per level up to BIT_DEPTH: 1 for an object, 0 for an array
  let deep: number[] | undefined; // the kinds of the levels beyond
  let depth = 0;
  while (i < end) {
    // This loop is the record path's hottest: each kind of byte is handled inline.
    const t = TOKEN[b[i]!];
    if (t === 1) {
      i++;
      while (i < end && TOKEN[b[i]!] === 1) i++;
      continue;
    }
    if (t === 2) {
      const start = i;
      for (i++; ; i++) {
        if (i >= end) return -1;
        const s = IN_STRING[b[i]!];
        if (s === 1) break;
        if (s === 2) i++;
      }
      i++;
      // "_meta": 7 bytes, quotes included.
      if (depth === 1 && i - start === 7 && meta !== null && b[start + 1] === 0x5f && b[start + 2] === 0x6d && b[start + 3] === 0x65 && b[start + 4] === 0x74 && b[start + 5] === 0x61) {
        meta.hasMeta = true;
      }
      continue;
    }
    if (t === 3) {
      if (depth < BIT_DEPTH) stack = (stack << 1) | 1;
      else (deep ??= []).push(1);
      depth++;
      i++;
      continue;
    }
    if (t === 5) {
      if (depth > BIT_DEPTH) {
        if (deep!.pop() !== 1) return -1;
      } else {
        if ((stack & 1) !== 1) return -1;
        stack >>>= 1;
      }
      i++;
      if (--depth === 0) return i;
      continue;
    }
    if (t === 4) {
      if (depth < BIT_DEPTH) stack = stack << 1;
      else (deep ??= []).push(0);
      depth++;
      i++;
      continue;
    }
    if (t === 6) {
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
    }
    return -1;
  }
  return -1;
}

/** Skips any JSON value at `b[i]`; returns the offset past it, or -1. */
export function skipValue(b: Uint8Array, i: number, end: number = b.length): number {
  const c = b[i];
  if (c === QUOTE) return skipString(b, i, end);
  if (c === LBRACE || c === LBRACKET) return skipComposite(b, i, null, end);
  const start = i;
  while (i < end && SCALAR[b[i]!] === 1) i++;
  return i > start ? i : -1;
}

/** The value of the string token `b[start, end)`, quotes included. */
export function stringValue(b: Buffer, start: number, end: number): string {
  for (let i = start + 1; i < end - 1; i++) {
    if (b[i] === BACKSLASH) return JSON.parse(b.toString("utf8", start, end)) as string;
  }
  return b.toString("utf8", start + 1, end - 1);
}

/** True when `b[at...]` starts with `bytes` (before `end`). */
export function startsWith(b: Uint8Array, at: number, bytes: Uint8Array, end: number = b.length): boolean {
  if (at + bytes.length > end) return false;
  for (let i = 0; i < bytes.length; i++) if (b[at + i] !== bytes[i]) return false;
  return true;
}

/** True when the key token at `b[keyStart]` (its opening quote), `keyLen` bytes long without quotes, is the ASCII `name`. */
export function keyIs(b: Uint8Array, keyStart: number, keyLen: number, name: string): boolean {
  if (keyLen !== name.length) return false;
  for (let i = 0; i < keyLen; i++) if (b[keyStart + 1 + i] !== name.charCodeAt(i)) return false;
  return true;
}

/**
 * True when the string token `b[start, end)` (quotes included) is the ASCII `upper` in any case:
 * `"record"`, `"RECORD"` and `"Record"` all match `RECORD`. Escaped tokens do not match.
 */
export function tokenIsCaseless(b: Uint8Array, start: number, end: number, upper: string): boolean {
  if (end - start - 2 !== upper.length) return false;
  for (let i = 0; i < upper.length; i++) {
    const c = b[start + 1 + i]!;
    if ((c >= 0x61 && c <= 0x7a ? c - 0x20 : c) !== upper.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * Decodes string tokens, reusing the last one when the bytes repeat: most records of a stream
 * name it with the same bytes, which are then not decoded again.
 */
export class TokenCache {
  private lastBytes: Buffer = Buffer.alloc(0);
  private last = "";

  /** The string token `b[start, end)` (quotes included), decoded. */
  decode(b: Buffer, start: number, end: number): string {
    const last = this.lastBytes;
    const length = end - start;
    if (length === last.length) {
      let same = true;
      for (let i = 0; i < length; i++) {
        if (b[start + i] !== last[i]) {
          same = false;
          break;
        }
      }
      if (same) return this.last;
    }
    this.lastBytes = Buffer.from(b.subarray(start, end));
    this.last = stringValue(b, start, end);
    return this.last;
  }
}

/** One member of an object, located in its text. */
export interface JsonMember {
  /** The key, decoded. */
  key: string;
  /** Offset of the key's opening quote. */
  keyStart: number;
  /** Offset just past the key's closing quote. */
  keyEnd: number;
  valueStart: number;
  /** Offset just past the value. */
  valueEnd: number;
}

/**
 * Walks the members of the object whose `{` is at `b[i]`, calling `onMember` with where each
 * key token and value are; returns the offset past the object, or -1 when it is not well formed.
 */
function walkObject(b: Buffer, i: number, onMember: (keyStart: number, keyEnd: number, valueStart: number, valueEnd: number) => void): number {
  i = skipWs(b, i + 1);
  if (b[i] === RBRACE) return i + 1;
  for (;;) {
    if (b[i] !== QUOTE) return -1;
    const keyStart = i;
    const keyEnd = skipString(b, i);
    if (keyEnd < 0) return -1;
    i = skipWs(b, keyEnd);
    if (b[i] !== COLON) return -1;
    const valueStart = skipWs(b, i + 1);
    const valueEnd = skipValue(b, valueStart);
    if (valueEnd < 0) return -1;
    onMember(keyStart, keyEnd, valueStart, valueEnd);
    i = skipWs(b, valueEnd);
    if (b[i] === COMMA) {
      i = skipWs(b, i + 1);
      continue;
    }
    return b[i] === RBRACE ? i + 1 : -1;
  }
}

/**
 * The members of the object that opens at `b[i]` (after whitespace), in order, with where their
 * values are, and the offset past the object; undefined when `b[i]` is not a well-formed object.
 * For the rare lines a shim reads whole (states, schemas): it allocates per member.
 */
export function objectMembers(b: Buffer, i: number): { members: JsonMember[]; end: number } | undefined {
  i = skipWs(b, i);
  if (b[i] !== LBRACE) return undefined;
  const members: JsonMember[] = [];
  const end = walkObject(b, i, (keyStart, keyEnd, valueStart, valueEnd) => members.push({ key: stringValue(b, keyStart, keyEnd), keyStart, keyEnd, valueStart, valueEnd }));
  return end < 0 ? undefined : { members, end };
}

/** The items of the array that opens at `b[i]`, as `[start, end)` offsets; undefined when it is not a well-formed array. */
export function arrayItems(b: Buffer, i: number): [number, number][] | undefined {
  i = skipWs(b, i);
  if (b[i] !== LBRACKET) return undefined;
  const items: [number, number][] = [];
  i = skipWs(b, i + 1);
  if (b[i] === RBRACKET) return items;
  for (;;) {
    const end = skipValue(b, i);
    if (end < 0) return undefined;
    items.push([i, end]);
    i = skipWs(b, end);
    if (b[i] === COMMA) {
      i = skipWs(b, i + 1);
      continue;
    }
    return b[i] === RBRACKET ? items : undefined;
  }
}

/**
 * Where the value at `tokens` (a JSON pointer's tokens) is inside the value at `b[start, end)`:
 * object members by key, array items by index. Undefined when a step is missing or the text is
 * not well formed. Only what the path passes through is walked.
 */
export function valueAt(b: Buffer, start: number, end: number, tokens: readonly string[]): [number, number] | undefined {
  let s = skipWs(b, start);
  let e = end;
  for (const token of tokens) {
    if (b[s] === LBRACE) {
      const found = memberSpan(b, s, token);
      if (!found) return undefined;
      [s, e] = found;
    } else if (b[s] === LBRACKET && /^(0|[1-9][0-9]*)$/.test(token)) {
      const items = arrayItems(b, s);
      const item = items?.[Number(token)];
      if (!item) return undefined;
      [s, e] = item;
    } else return undefined;
  }
  return [s, e];
}

/** The value span of member `name` of the object at `b[i]` (the last one, if repeated). */
function memberSpan(b: Buffer, i: number, name: string): [number, number] | undefined {
  let found: [number, number] | undefined;
  const end = walkObject(b, i, (keyStart, keyEnd, valueStart, valueEnd) => {
    if (keyIs(b, keyStart, keyEnd - keyStart - 2, name) || (hasEscape(b, keyStart, keyEnd) && stringValue(b, keyStart, keyEnd) === name)) found = [valueStart, valueEnd];
  });
  return end < 0 ? undefined : found;
}

/** True when the string token `b[start, end)` holds an escape. */
export function hasEscape(b: Uint8Array, start: number, end: number): boolean {
  for (let i = start + 1; i < end - 1; i++) if (b[i] === BACKSLASH) return true;
  return false;
}

/** `data`'s JSON text with `"_meta":<metaJson>` added as its last property (for serialized objects). */
export function spliceMeta(s: string, dataStart: number, dataEnd: number, metaJson: string): string {
  const close = dataEnd - 1;
  let j = close - 1;
  for (;;) {
    const c = s.charCodeAt(j);
    if (c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a) j--;
    else break;
  }
  const empty = s.charCodeAt(j) === LBRACE;
  return s.slice(dataStart, close) + (empty ? '"_meta":' : ',"_meta":') + metaJson + "}";
}

/**
 * The tail that closes an object whose bytes `b[start, end)` end at its `}` (exclusive `end`
 * points past it) once `"_meta":<metaJson>` is added: `,"_meta":...}` or, for an empty object,
 * `"_meta":...}`. The caller copies `b[start, end - 1)` and then this tail.
 */
export function metaTail(b: Uint8Array, start: number, end: number, metaJson: string): string {
  let j = end - 2;
  while (j > start && (b[j] === 0x20 || b[j] === 0x0a || b[j] === 0x0d || b[j] === 0x09)) j--;
  return (b[j] === LBRACE ? '"_meta":' : ',"_meta":') + metaJson + "}";
}
