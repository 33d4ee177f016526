import { floatValue, formatBool, formatDate, formatJsonb, formatTimestamp, formatTimestamptz, quote, TRUNCATE_BYTES, verbatim, type Transcoder } from "./values.js";

/**
 * Byte forms of the commonest transcoders of `values.ts`, for backfill rows, which arrive as
 * bytes (COPY's text format): each writes the JSON of a value straight from its UTF-8 text into
 * the output bytes, with no string made. Each must write exactly the UTF-8 bytes of its string
 * transcoder's result (`test/copyText.test.ts` checks them against each other); a value off the
 * common shape (an infinity, a BC date, an oversized text) is left to the string transcoder,
 * which stays the one definition of every format.
 */

/**
 * Writes the JSON of the value whose text is `src[start, end)` (valid UTF-8) into `out` at `at`,
 * which has room for `ROOM_PER_BYTE × (end − start) + ROOM_EXTRA` bytes; returns the position
 * after it, or -1 to leave the value to the string transcoder.
 */
export type ByteTranscoder = (src: Uint8Array, start: number, end: number, out: Uint8Array, at: number) => number;

/** The room a byte transcoder may use: a control character becomes a six-byte `\u00XX`. */
export const ROOM_PER_BYTE = 6;
export const ROOM_EXTRA = 8;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const HEX = Buffer.from("0123456789abcdef", "latin1");

/** JSON.stringify's escapes for the bytes below 0x20 (short forms where it has them). */
const SHORT_ESCAPES: Record<number, number> = { 0x08: 0x62, 0x09: 0x74, 0x0a: 0x6e, 0x0c: 0x66, 0x0d: 0x72 };

/** Writes `src[start, end)` as a JSON string, as JSON.stringify escapes it. */
function quoteBytes(src: Uint8Array, start: number, end: number, out: Uint8Array, at: number): number {
  if (end - start > TRUNCATE_BYTES) return -1; // truncated by the string form
  out[at++] = QUOTE;
  for (let i = start; i < end; i++) {
    const c = src[i]!;
    if (c >= 0x20 && c !== QUOTE && c !== BACKSLASH) {
      out[at++] = c;
      continue;
    }
    out[at++] = BACKSLASH;
    if (c === QUOTE || c === BACKSLASH) {
      out[at++] = c;
      continue;
    }
    const short = SHORT_ESCAPES[c];
    if (short !== undefined) {
      out[at++] = short;
      continue;
    }
    out[at++] = 0x75; // u00XX
    out[at++] = 0x30;
    out[at++] = 0x30;
    out[at++] = HEX[c >> 4]!;
    out[at++] = HEX[c & 15]!;
  }
  out[at++] = QUOTE;
  return at;
}

function copy(src: Uint8Array, start: number, end: number, out: Uint8Array, at: number): number {
  if (end - start > 32) {
    out.set(src.subarray(start, end), at);
    return at + (end - start);
  }
  for (let i = start; i < end; i++) out[at++] = src[i]!;
  return at;
}

function verbatimBytes(src: Uint8Array, start: number, end: number, out: Uint8Array, at: number): number {
  return copy(src, start, end, out, at);
}

const TRUE = Buffer.from("true", "latin1");
const FALSE = Buffer.from("false", "latin1");

function boolBytes(src: Uint8Array, start: number, end: number, out: Uint8Array, at: number): number {
  const json = end - start === 1 && src[start] === 0x74 ? TRUE : FALSE;
  return copy(json, 0, json.length, out, at);
}

const isDigit = (c: number | undefined): boolean => c !== undefined && c >= 0x30 && c <= 0x39;

/** A finite float is its text; NaN and the infinities are the string form's. */
function floatBytes(src: Uint8Array, start: number, end: number, out: Uint8Array, at: number): number {
  if (!(isDigit(src[start]) || (src[start] === 0x2d && isDigit(src[start + 1])))) return -1;
  return copy(src, start, end, out, at);
}

function jsonbBytes(src: Uint8Array, start: number, end: number, out: Uint8Array, at: number): number {
  if (end - start > TRUNCATE_BYTES) return -1;
  return copy(src, start, end, out, at);
}

/** True when `src[at, at + 10)` is `dddd-dd-dd`. */
function isDate(src: Uint8Array, at: number): boolean {
  return isDigit(src[at]) && isDigit(src[at + 1]) && isDigit(src[at + 2]) && isDigit(src[at + 3]) && src[at + 4] === 0x2d && isDigit(src[at + 5]) && isDigit(src[at + 6]) && src[at + 7] === 0x2d && isDigit(src[at + 8]) && isDigit(src[at + 9]);
}

/** True when `src[at, at + 8)` is `dd:dd:dd`. */
function isClock(src: Uint8Array, at: number): boolean {
  return isDigit(src[at]) && isDigit(src[at + 1]) && src[at + 2] === 0x3a && isDigit(src[at + 3]) && isDigit(src[at + 4]) && src[at + 5] === 0x3a && isDigit(src[at + 6]) && isDigit(src[at + 7]);
}

function dateBytes(src: Uint8Array, start: number, end: number, out: Uint8Array, at: number): number {
  if (end - start !== 10 || !isDate(src, start)) return -1;
  out[at++] = QUOTE;
  at = copy(src, start, end, out, at);
  out[at++] = QUOTE;
  return at;
}

/** Where timestampHead stopped reading its source (its result is where it stopped writing). */
let headSourceEnd = 0;

/**
 * `dddd-dd-dd dd:dd:dd[.d+]`: writes `"dddd-dd-ddTdd:dd:dd[.d+]` (no closing quote), returns the
 * position after it and leaves in headSourceEnd where the source continues; -1 when the text is
 * not that shape.
 */
function timestampHead(src: Uint8Array, start: number, end: number, out: Uint8Array, at: number): number {
  if (end - start < 19 || !isDate(src, start) || src[start + 10] !== 0x20 || !isClock(src, start + 11)) return -1;
  let i = start + 19;
  if (src[i] === 0x2e) {
    i++;
    if (!isDigit(src[i])) return -1;
    while (i < end && isDigit(src[i])) i++;
  }
  out[at++] = QUOTE;
  at = copy(src, start, start + 10, out, at);
  out[at++] = 0x54; // T
  at = copy(src, start + 11, i, out, at);
  headSourceEnd = i;
  return at;
}

function timestampBytes(src: Uint8Array, start: number, end: number, out: Uint8Array, at: number): number {
  const head = timestampHead(src, start, end, out, at);
  if (head < 0 || headSourceEnd !== end) return -1;
  at = head;
  out[at++] = 0x5a; // Z
  out[at++] = QUOTE;
  return at;
}

/** `…[+-]dd[:dd[:dd]]`, the offset written as Go's `Z07:00` (`Z` for zero, seconds dropped). */
function timestamptzBytes(src: Uint8Array, start: number, end: number, out: Uint8Array, at: number): number {
  const head = timestampHead(src, start, end, out, at);
  if (head < 0) return -1;
  let i = headSourceEnd;
  const sign = src[i]!;
  if ((sign !== 0x2b && sign !== 0x2d) || !isDigit(src[i + 1]) || !isDigit(src[i + 2])) return -1;
  const hh = i + 1;
  i += 3;
  let mm = -1;
  let zero = src[hh] === 0x30 && src[hh + 1] === 0x30;
  for (let part = 0; part < 2 && i < end; part++) {
    if (src[i] !== 0x3a || !isDigit(src[i + 1]) || !isDigit(src[i + 2])) return -1;
    if (part === 0) mm = i + 1;
    zero &&= src[i + 1] === 0x30 && src[i + 2] === 0x30;
    i += 3;
  }
  if (i !== end) return -1;
  at = head;
  if (zero) {
    out[at++] = 0x5a; // Z
  } else {
    out[at++] = sign;
    out[at++] = src[hh]!;
    out[at++] = src[hh + 1]!;
    out[at++] = 0x3a;
    out[at++] = mm < 0 ? 0x30 : src[mm]!;
    out[at++] = mm < 0 ? 0x30 : src[mm + 1]!;
  }
  out[at++] = QUOTE;
  return at;
}

const BYTE_FORMS = new Map<Transcoder, ByteTranscoder>([
  [verbatim, verbatimBytes],
  [quote, quoteBytes],
  [formatBool, boolBytes],
  [floatValue, floatBytes],
  [formatJsonb, jsonbBytes],
  [formatDate, dateBytes],
  [formatTimestamp, timestampBytes],
  [formatTimestamptz, timestamptzBytes],
]);

/** The byte form of a transcoder, when it has one. */
export function byteTranscoderOf(transcoder: Transcoder): ByteTranscoder | undefined {
  return BYTE_FORMS.get(transcoder);
}
