/**
 * Column values, from PostgreSQL's text output to JSON, formatted as Estuary's connector formats
 * them (`datatypes.go` `translateRecordField` and the transcoders in `change.go`). Backfill rows
 * and pgoutput tuples both arrive as text, so one transcoder per column serves both paths, and the
 * same value always comes out the same way. Sessions run with `DateStyle=ISO`,
 * `IntervalStyle=postgres`, `bytea_output=hex` and `extra_float_digits=1`, which these parsers
 * assume; the time zone is the server's, as Estuary's (timestamptz carries its offset).
 */

/** A column's type as discovery reports it. */
export interface ColumnType {
  /** The type name, the base type's for a domain, without the array `_` prefix. */
  name: string;
  /** pg_type.typtype of the column's type: b(ase), c(omposite), d(omain), e(num), r(ange), m(ultirange). */
  typtype: string;
  isArray: boolean;
}

/** Turns one text value into a JSON fragment. */
export type Transcoder = (text: string) => string;

/** Values longer than this are truncated (text, bytea) or replaced (json), as Estuary does. */
export const TRUNCATE_BYTES = 8 * 1024 * 1024;

const INFINITY_TIMESTAMP = '"9999-12-31T23:59:59Z"';
const NEGATIVE_INFINITY_TIMESTAMP = '"0000-01-01T00:00:00Z"';
const INFINITY_DATE = '"9999-12-31"';
const NEGATIVE_INFINITY_DATE = '"0000-01-01"';

/** Past this many UTF-16 units a text may be over TRUNCATE_BYTES in UTF-8 (3 bytes per unit at most). */
const MAYBE_OVERSIZED = TRUNCATE_BYTES / 3;

/** Whether the text is over TRUNCATE_BYTES in UTF-8, the size Estuary measures. */
const oversizedText = (text: string): boolean => text.length > MAYBE_OVERSIZED && Buffer.byteLength(text, "utf8") > TRUNCATE_BYTES;

/** A JSON string, truncated past TRUNCATE_BYTES. */
export const quote: Transcoder = (text) => JSON.stringify(oversizedText(text) ? truncateUtf8(text) : text);

/** Keeps the first TRUNCATE_BYTES bytes of the UTF-8 text (Estuary cuts bytes, not characters). */
function truncateUtf8(text: string): string {
  return Buffer.from(text, "utf8").subarray(0, TRUNCATE_BYTES).toString("utf8");
}

/** Text that is JSON as it is (integers). */
export const verbatim: Transcoder = (text) => text;

export const formatBool: Transcoder = (text) => (text === "t" ? "true" : "false");

/** jsonb's text is JSON (PostgreSQL normalized it); too large a value is replaced. */
export const formatJsonb: Transcoder = (text) => (oversizedText(text) ? oversized(text) : text);

/** The transcoder for a column of this type; `isKey` stringifies floats as Estuary does for keys. */
export function transcoderFor(type: ColumnType, isKey: boolean): Transcoder {
  if (type.isArray) {
    const element = scalarTranscoder(type, isKey);
    const delimiter = type.name === "box" ? ";" : ",";
    return (text) => transcodeArray(text, element, delimiter);
  }
  return scalarTranscoder(type, isKey);
}

function scalarTranscoder(type: ColumnType, isKey: boolean): Transcoder {
  if (type.typtype === "e" || type.typtype === "c" || type.typtype === "m") return quote;
  if (type.typtype === "r") return rangeTranscoder(type.name);
  switch (type.name) {
    case "bool":
      return formatBool;
    case "int2":
    case "int4":
    case "int8":
    case "oid":
      return verbatim; // decimal digits are JSON, and int8 keeps all 64 bits
    case "float4":
    case "float8":
      return isKey ? floatKey : floatValue;
    case "numeric":
      return quote;
    case "bytea":
      return (text) => `"${Buffer.from(text.length > 2 * TRUNCATE_BYTES + 2 ? text.slice(2, 2 * TRUNCATE_BYTES + 2) : text.slice(2), "hex").toString("base64")}"`;
    case "json":
      return (text) => (oversizedText(text) ? oversized(text) : fixUnpairedSurrogates(text));
    case "jsonb":
      return formatJsonb;
    case "inet":
      return (text) => JSON.stringify(text.includes("/") ? text : text + (text.includes(":") ? "/128" : "/32"));
    case "date":
      return formatDate;
    case "timestamp":
      return formatTimestamp;
    case "timestamptz":
      return formatTimestamptz;
    case "time":
      return formatTime;
    case "timetz":
      return formatTimetz;
    case "interval":
      return formatInterval;
    default:
      return quote;
  }
}

function oversized(text: string): string {
  return `{"flow_truncated":true,"original_size":${Buffer.byteLength(text, "utf8")}}`;
}

/** A float: a JSON number, or a string for NaN and the infinities. PostgreSQL's shortest form is JSON already. */
export function floatValue(text: string): string {
  if (text === "NaN" || text === "Infinity" || text === "-Infinity") return `"${text}"`;
  return text;
}

/** A float key: a string in positional notation, never an exponent (Go's `%f` shortest form). */
function floatKey(text: string): string {
  if (text === "NaN" || text === "Infinity" || text === "-Infinity") return `"${text}"`;
  return `"${expandExponent(text)}"`;
}

function expandExponent(text: string): string {
  const m = /^(-?)(\d+)(?:\.(\d+))?e([+-]\d+)$/i.exec(text);
  if (!m) return text;
  const [, sign, int, frac = "", expText] = m;
  const exp = Number(expText);
  const digits = int! + frac;
  const point = int!.length + exp;
  let out: string;
  if (point <= 0) out = "0." + "0".repeat(-point) + digits;
  else if (point >= digits.length) out = digits + "0".repeat(point - digits.length);
  else out = digits.slice(0, point) + "." + digits.slice(point);
  out = out.replace(/^0+(?=\d)/, "");
  if (out.includes(".")) out = out.replace(/\.?0+$/, "");
  return sign + out;
}

/** Replaces unpaired UTF-16 surrogate escapes in JSON text with \uFFFD (Estuary's fixUnpairedSurrogates). */
export function fixUnpairedSurrogates(text: string): string {
  if (!text.includes("\\u")) return text;
  return text.replace(/\\\\|\\u([dD][89abAB][0-9a-fA-F]{2})(\\u[dD][c-fC-F][0-9a-fA-F]{2})?|\\u[dD][c-fC-F][0-9a-fA-F]{2}/g, (match, high: string | undefined, low: string | undefined) => {
    if (match === "\\\\") return match;
    if (high !== undefined && low !== undefined) return match;
    return "\\uFFFD";
  });
}

const DATE_RE = /^(\d{4})-(\d\d)-(\d\d)$/;

export function formatDate(text: string): string {
  if (DATE_RE.test(text)) return `"${text}"`;
  if (text === "infinity") return INFINITY_DATE;
  return NEGATIVE_INFINITY_DATE; // -infinity, BC dates and years past 9999
}

const TIMESTAMP_RE = /^(\d{4})-(\d\d)-(\d\d) (\d\d:\d\d:\d\d)(\.\d+)?([+-]\d\d(?::\d\d){0,2})?$/;

/** RFC 3339 with the fraction trimmed (Go's RFC3339Nano); `offset` "" for UTC. */
function rfc3339(m: RegExpExecArray, offset: string): string {
  return `"${m[1]}-${m[2]}-${m[3]}T${m[4]}${m[5] ?? ""}${offset}"`;
}

export function formatTimestamp(text: string): string {
  const m = TIMESTAMP_RE.exec(text);
  if (m && !m[6]) return rfc3339(m, "Z");
  if (text === "infinity") return INFINITY_TIMESTAMP;
  return NEGATIVE_INFINITY_TIMESTAMP;
}

/** A zone offset as Go's `Z07:00` writes it: `Z` for zero, else `±hh:mm` (seconds dropped). */
function goOffset(offset: string): string {
  const sign = offset[0];
  const parts = offset.slice(1).split(":");
  const hh = parts[0]!;
  const mm = parts[1] ?? "00";
  if (hh === "00" && mm === "00" && (parts[2] ?? "00") === "00") return "Z";
  return `${sign}${hh}:${mm}`;
}

export function formatTimestamptz(text: string): string {
  const m = TIMESTAMP_RE.exec(text);
  if (m && m[6]) return rfc3339(m, goOffset(m[6]));
  if (text === "infinity") return INFINITY_TIMESTAMP;
  return NEGATIVE_INFINITY_TIMESTAMP;
}

const TIME_RE = /^(\d\d):(\d\d):(\d\d)(\.\d+)?([+-]\d\d(?::\d\d){0,2})?$/;

function formatTime(text: string): string {
  const m = TIME_RE.exec(text);
  if (!m) return JSON.stringify(text);
  // 24:00:00 is microseconds since midnight = a whole day, which Go formats as 00:00:00.
  const hh = m[1] === "24" ? "00" : m[1];
  return `"${hh}:${m[2]}:${m[3]}${trimFraction(m[4])}Z"`;
}

function formatTimetz(text: string): string {
  const m = TIME_RE.exec(text);
  if (!m || !m[5]) return JSON.stringify(text);
  const hh = m[1] === "24" ? "00" : m[1];
  return `"${hh}:${m[2]}:${m[3]}${trimFraction(m[4])}${goOffset(m[5])}"`;
}

function trimFraction(fraction: string | undefined): string {
  if (!fraction) return "";
  const trimmed = fraction.replace(/0+$/, "");
  return trimmed === "." ? "" : trimmed;
}

/**
 * An interval, as pgx 5.6's text encoder writes it (what Estuary emits): `<months> mon `,
 * `<days> day`, then ` [-]HH:MM:SS[.ffffff]` when the time part is not zero. PostgreSQL's
 * `postgres` style is parsed first, as Estuary does.
 */
function formatInterval(text: string): string {
  let months = 0;
  let days = 0;
  let micros = 0n;
  const re = /(-?\d+) (year|years|mon|mons|day|days)|([+-]?)(\d+):(\d\d):(\d\d)(?:\.(\d+))?/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m[2]) {
      const n = Number(m[1]);
      if (m[2].startsWith("year")) months += 12 * n;
      else if (m[2].startsWith("mon")) months += n;
      else days += n;
    } else {
      const us = (BigInt(m[4]!) * 3600n + BigInt(m[5]!) * 60n + BigInt(m[6]!)) * 1_000_000n + BigInt((m[7] ?? "").padEnd(6, "0").slice(0, 6) || "0");
      micros += m[3] === "-" ? -us : us;
    }
  }
  let out = "";
  if (months !== 0) out += `${months} mon `;
  if (days !== 0) out += `${days} day`;
  if (micros !== 0n) {
    const negative = micros < 0n;
    const abs = negative ? -micros : micros;
    const hours = abs / 3_600_000_000n;
    const minutes = (abs / 60_000_000n) % 60n;
    const seconds = (abs / 1_000_000n) % 60n;
    const us = abs % 1_000_000n;
    const two = (n: bigint) => n.toString().padStart(2, "0");
    out += ` ${negative ? "-" : ""}${two(hours)}:${two(minutes)}:${two(seconds)}${us ? "." + us.toString().padStart(6, "0") : ""}`;
  }
  return JSON.stringify(out);
}

/** The builtin ranges whose endpoints Estuary formats as values (others stay text). */
function rangeTranscoder(typeName: string): Transcoder {
  const endpoint: ((text: string) => string) | undefined = {
    daterange: (t: string) => unquote(formatTimestamp(/^\d{4}-\d\d-\d\d$/.test(t) ? `${t} 00:00:00` : t)),
    tsrange: (t: string) => unquote(formatTimestamp(t)),
    tstzrange: (t: string) => unquote(formatTimestamptz(t)),
  }[typeName];
  if (!endpoint) return quote;
  return (text) => {
    const m = /^([[(])("?)(.*?)\2,("?)(.*?)\4([\])])$/.exec(text);
    if (!m) return quote(text); // empty
    const lower = m[3] ? endpoint(m[3]) : "";
    const upper = m[5] ? endpoint(m[5]) : "";
    return JSON.stringify(`${m[1]}${lower},${upper}${m[6]}`);
  };
}

const unquote = (json: string): string => JSON.parse(json) as string;

/** A PostgreSQL array literal, flattened row-major into a JSON array (Estuary's default). */
export function transcodeArray(text: string, element: Transcoder, delimiter: string): string {
  let i = 0;
  // Optional dimension decoration: [1:2][0:1]={...}
  if (text[0] === "[") {
    i = text.indexOf("=") + 1;
  }
  const out: string[] = [];
  const n = text.length;
  for (; i < n; i++) {
    const c = text[i];
    if (c === "{" || c === "}" || c === delimiter || c === " ") continue;
    if (c === '"') {
      let value = "";
      i++;
      for (; i < n && text[i] !== '"'; i++) {
        if (text[i] === "\\") i++;
        value += text[i];
      }
      out.push(element(value));
      continue;
    }
    let j = i;
    while (j < n && text[j] !== delimiter && text[j] !== "}") j++;
    const value = text.slice(i, j).trim();
    out.push(value === "NULL" ? "null" : element(value));
    i = j - 1;
  }
  return `[${out.join(",")}]`;
}
