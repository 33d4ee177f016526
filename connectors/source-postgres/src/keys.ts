/**
 * Row keys as FoundationDB tuples, the encoding Estuary's connector keeps in `scanned` (base64)
 * and compares bytewise to decide whether a change lies inside the backfilled part of a table
 * (`sqlcapture/tuples.go`, `source-postgres/fdbutils.go`). Values come in as PostgreSQL's text
 * output; a key decodes back to text query parameters for the next chunk's `WHERE (k) > ($1)`.
 */

const NULL = 0x00;
const BYTES = 0x01;
const STRING = 0x02;
const NESTED = 0x05;
const INT_ZERO = 0x14;
const FLOAT = 0x20;
const DOUBLE = 0x21;
const FALSE = 0x26;
const TRUE = 0x27;

/** How a key column's text value is encoded, by PostgreSQL type name. */
export type KeyKind = "int" | "float4" | "float8" | "bool" | "numeric" | "timestamp" | "timestamptz" | "date" | "bytea" | "string";

export function keyKind(typeName: string): KeyKind {
  switch (typeName) {
    case "int2":
    case "int4":
    case "int8":
    case "oid":
      return "int";
    case "float4":
      return "float4";
    case "float8":
      return "float8";
    case "bool":
      return "bool";
    case "numeric":
      return "numeric";
    case "timestamp":
      return "timestamp";
    case "timestamptz":
      return "timestamptz";
    case "date":
      return "date";
    case "bytea":
      return "bytea";
    default:
      return "string";
  }
}

/**
 * True when bytewise order of encoded keys is the database's order for this type, so a precise
 * backfill may filter changes by key. Estuary treats text-like and enum keys as unpredictable
 * (collations, estuary/connectors#1343); so does this connector, and also any type it has no
 * order-preserving encoding for (where Estuary would fail mid-backfill on an ordering check).
 */
export function predictableKeyOrder(typeName: string, typtype: string): boolean {
  if (typtype === "e") return false;
  if (["varchar", "bpchar", "text", "citext"].includes(typeName)) return false;
  return keyKind(typeName) !== "string" || ["uuid", "macaddr", "macaddr8"].includes(typeName);
}

class Builder {
  bytes: number[] = [];
  push(...b: number[]): void {
    for (const x of b) this.bytes.push(x);
  }
  escaped(code: number, data: Uint8Array, nested: boolean): void {
    this.bytes.push(code);
    for (const b of data) {
      this.bytes.push(b);
      if (b === 0) this.bytes.push(0xff);
    }
    this.bytes.push(0x00);
    void nested;
  }
  int(value: bigint): void {
    if (value === 0n) return this.push(INT_ZERO);
    const negative = value < 0n;
    const magnitude = negative ? -value : value;
    let n = 0;
    while (n < 8 && magnitude > (1n << BigInt(8 * n)) - 1n) n++;
    if (n > 8) throw new Error(`integer key ${value} is out of range`);
    const encoded = negative ? (1n << BigInt(8 * n)) - 1n + value : magnitude;
    this.push(negative ? INT_ZERO - n : INT_ZERO + n);
    for (let i = n - 1; i >= 0; i--) this.push(Number((encoded >> BigInt(8 * i)) & 0xffn));
  }
  float(value: number, single: boolean): void {
    const buf = Buffer.alloc(single ? 4 : 8);
    if (single) buf.writeFloatBE(value);
    else buf.writeDoubleBE(value);
    if (buf[0]! & 0x80) for (let i = 0; i < buf.length; i++) buf[i] = ~buf[i]! & 0xff;
    else buf[0] = buf[0]! ^ 0x80;
    this.push(single ? FLOAT : DOUBLE, ...buf);
  }
}

/** `2006-01-02T15:04:05.000000000Z07:00` from PostgreSQL's ISO text of a timestamp or date. */
function sortableTimestamp(text: string, kind: "timestamp" | "timestamptz" | "date"): string {
  const m = /^(\d{4,})-(\d\d)-(\d\d)(?: (\d\d):(\d\d):(\d\d)(?:\.(\d+))?)?([+-]\d\d(?::?\d\d)?(?::?\d\d)?)?$/.exec(text);
  if (!m) return text; // infinity, BC: kept as text (still a valid parameter)
  const [, y, mo, d, h = "00", mi = "00", s = "00", frac = "", offset] = m;
  if (kind === "timestamptz" && offset) {
    // Normalized to UTC, so that string order is time order across offsets (DST).
    const sign = offset[0] === "-" ? -1 : 1;
    const digits = offset.slice(1).replace(/:/g, "");
    const offsetMs = sign * (Number(digits.slice(0, 2)) * 3600 + Number(digits.slice(2, 4) || 0) * 60 + Number(digits.slice(4, 6) || 0)) * 1000;
    const utc = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)) - offsetMs);
    const iso = utc.toISOString().slice(0, 19);
    return `${iso}.${frac.padEnd(9, "0")}Z`;
  }
  return `${y}-${mo}-${d}T${h}:${mi}:${s}.${frac.padEnd(9, "0")}Z`;
}

/** Appends a numeric as Estuary's ("N", (biasedExponent, digits), binaryNumeric) nested tuple. */
function appendNumeric(b: Builder, text: string): void {
  if (!/^-?\d+(\.\d+)?$/.test(text)) throw new Error(`numeric key value ${JSON.stringify(text)} cannot be ordered (NaN or infinite)`);
  const negative = text.startsWith("-");
  const [intPart, fracPart = ""] = (negative ? text.slice(1) : text).split(".");
  // value = digits × 10^exp, digits an integer with no leading zeros
  let digits = (intPart + fracPart).replace(/^0+/, "");
  const exp = -fracPart.length;
  b.push(NESTED);
  b.escaped(STRING, Buffer.from("N"), true);
  b.push(NESTED);
  if (digits === "") {
    b.push(INT_ZERO, NULL, 0xff);
  } else {
    const bias = 20000;
    if (negative) {
      b.int(BigInt(-(digits.length + exp + bias)));
      const trimmed = digits.replace(/0+$/, "");
      const inverted = [...trimmed].map((c) => 57 - c.charCodeAt(0) + 48);
      inverted.push(0x3a);
      b.escaped(BYTES, Uint8Array.from(inverted), true);
    } else {
      b.int(BigInt(digits.length + exp + bias));
      digits = digits.replace(/0+$/, "");
      b.escaped(BYTES, Buffer.from(digits), true);
    }
  }
  b.push(0x00);
  b.escaped(BYTES, encodeBinaryNumeric(text), true);
  b.push(0x00);
}

/** PostgreSQL's binary numeric: ndigits, weight, sign, dscale, then base-10000 digits. */
function encodeBinaryNumeric(text: string): Buffer {
  const negative = text.startsWith("-");
  const [intPart, fracPart = ""] = (negative ? text.slice(1) : text).split(".");
  const dscale = fracPart.length;
  const intPadded = intPart!.padStart(Math.ceil(intPart!.length / 4) * 4, "0");
  const fracPadded = fracPart.padEnd(Math.ceil(fracPart.length / 4) * 4, "0");
  let groups = [...(intPadded.match(/.{4}/g) ?? []), ...(fracPadded.match(/.{4}/g) ?? [])].map(Number);
  let weight = intPadded.length / 4 - 1;
  while (groups.length && groups[0] === 0) {
    groups.shift();
    weight--;
  }
  while (groups.length && groups[groups.length - 1] === 0) groups.pop();
  if (groups.length === 0) weight = 0;
  const buf = Buffer.alloc(8 + 2 * groups.length);
  buf.writeUInt16BE(groups.length, 0);
  buf.writeInt16BE(weight, 2);
  buf.writeUInt16BE(negative && groups.length ? 0x4000 : 0, 4);
  buf.writeUInt16BE(dscale, 6);
  groups.forEach((g, i) => buf.writeUInt16BE(g, 8 + 2 * i));
  return buf;
}

function decodeBinaryNumeric(buf: Buffer): string {
  const n = buf.readUInt16BE(0);
  const weight = buf.readInt16BE(2);
  const sign = buf.readUInt16BE(4);
  const dscale = buf.readUInt16BE(6);
  let intDigits = "";
  let fracDigits = "";
  for (let i = 0; i <= Math.max(weight, -1) || i < n; i++) {
    const group = i < n ? buf.readUInt16BE(8 + 2 * i) : 0;
    const text = String(group).padStart(4, "0");
    if (i <= weight) intDigits += text;
    else fracDigits += text;
    if (i > weight && i >= n - 1) break;
  }
  if (weight < -1) fracDigits = "0000".repeat(-weight - 1) + fracDigits;
  intDigits = intDigits.replace(/^0+/, "") || "0";
  fracDigits = fracDigits.padEnd(dscale, "0").slice(0, dscale);
  return (sign === 0x4000 ? "-" : "") + intDigits + (dscale ? "." + fracDigits : "");
}

/** Encodes a row key from its columns' text values (null for SQL NULL). */
export function encodeKey(kinds: readonly KeyKind[], values: readonly (string | null)[]): Buffer {
  const b = new Builder();
  for (let i = 0; i < kinds.length; i++) appendKeyValue(b, kinds[i]!, values[i] ?? null);
  return Buffer.from(b.bytes);
}

function appendKeyValue(b: Builder, kind: KeyKind, text: string | null): void {
  if (text === null) return b.push(NULL);
  switch (kind) {
    case "int":
      return b.int(BigInt(text));
    case "float4":
    case "float8":
      return b.float(Number(text === "Infinity" || text === "-Infinity" || text === "NaN" ? text : text), kind === "float4");
    case "bool":
      return b.push(text === "t" ? TRUE : FALSE);
    case "numeric":
      return appendNumeric(b, text);
    case "timestamp":
    case "timestamptz":
    case "date":
      return b.escaped(STRING, Buffer.from(sortableTimestamp(text, kind)), false);
    case "bytea":
      return b.escaped(BYTES, Buffer.from(text.slice(2), "hex"), false);
    case "string":
      return b.escaped(STRING, Buffer.from(text, "utf8"), false);
  }
}

/** Decodes a key encoded by encodeKey (or by Estuary's connector) into text query parameters. */
export function decodeKey(bytes: Buffer): (string | null)[] {
  const out: (string | null)[] = [];
  let at = 0;
  const readEscaped = (): Buffer => {
    const parts: number[] = [];
    for (;;) {
      const c = bytes[at++];
      if (c === undefined) throw new Error("truncated key");
      if (c === 0x00) {
        if (bytes[at] === 0xff) {
          parts.push(0);
          at++;
          continue;
        }
        return Buffer.from(parts);
      }
      parts.push(c);
    }
  };
  const readElement = (nested: boolean): unknown => {
    const code = bytes[at++]!;
    if (code === NULL) {
      if (nested && bytes[at] === 0xff) at++;
      return null;
    }
    if (code === BYTES) return readEscaped();
    if (code === STRING) return readEscaped().toString("utf8");
    if (code === NESTED) {
      const items: unknown[] = [];
      while (!(bytes[at] === 0x00 && bytes[at + 1] !== 0xff)) items.push(readElement(true));
      at++;
      return items;
    }
    if (code >= INT_ZERO - 8 && code <= INT_ZERO + 8) {
      const n = Math.abs(code - INT_ZERO);
      let v = 0n;
      for (let i = 0; i < n; i++) v = (v << 8n) | BigInt(bytes[at++]!);
      return code >= INT_ZERO ? v : v - ((1n << BigInt(8 * n)) - 1n);
    }
    if (code === FLOAT || code === DOUBLE) {
      const size = code === FLOAT ? 4 : 8;
      const buf = Buffer.from(bytes.subarray(at, at + size));
      at += size;
      if (buf[0]! & 0x80) buf[0] = buf[0]! ^ 0x80;
      else for (let i = 0; i < size; i++) buf[i] = ~buf[i]! & 0xff;
      return size === 4 ? buf.readFloatBE() : buf.readDoubleBE();
    }
    if (code === FALSE) return false;
    if (code === TRUE) return true;
    throw new Error(`unsupported key element code 0x${code.toString(16)}`);
  };
  while (at < bytes.length) {
    const v = readElement(false);
    if (v === null) out.push(null);
    else if (typeof v === "bigint") out.push(v.toString());
    else if (typeof v === "number") out.push(Object.is(v, -0) ? "-0" : String(v));
    else if (typeof v === "boolean") out.push(v ? "t" : "f");
    else if (typeof v === "string") out.push(v);
    else if (Buffer.isBuffer(v)) out.push("\\x" + v.toString("hex"));
    else if (Array.isArray(v) && v[0] === "N" && Buffer.isBuffer(v[2])) out.push(decodeBinaryNumeric(v[2]));
    else throw new Error("unsupported nested key element");
  }
  return out;
}

/** Bytewise comparison of encoded keys (Estuary's `compareTuples`). */
export function compareKeys(a: Buffer, b: Buffer): number {
  return Buffer.compare(a, b);
}
