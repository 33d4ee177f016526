/**
 * JSON as Flow's runtime holds and prints it (crates/doc HeapNode, serialized by serde_json):
 * object properties sorted by their UTF-8 bytes, integers kept digit for digit within u64/i64,
 * other numbers as f64 printed the way serde_json prints them (ryu: `1.0`, `1e21`, `0.001`),
 * nothing but the value (no spaces). `JSON.parse` would round integers beyond 2^53 and print
 * `1.0` as `1`, so preview parses documents and states with this instead.
 */

/** A number as Flow holds it: its text as Flow prints it, and its value for comparisons. */
export class FlowNumber {
  constructor(
    /** As Flow prints it: `12345678901234567890`, `1.0`, `1e21`. */
    readonly text: string,
    /** The nearest double, or the exact integer (within u64/i64). */
    readonly value: number | bigint,
  ) {}

  toJSON(): number {
    return Number(this.value);
  }
}

/** A JSON value whose numbers keep their digits and whose objects keep every key (`__proto__` too). */
export type FlowValue = null | boolean | string | FlowNumber | FlowValue[] | FlowObject;
export type FlowObject = Map<string, FlowValue>;

const U64_MAX = 18446744073709551615n;
const I64_MIN = -9223372036854775808n;

/**
 * How Flow prints the number written as `raw` (a JSON number token): serde_json reads an integer
 * token as u64 or i64 when it fits (and `-0` as the float -0.0), anything else as f64.
 */
export function flowNumber(raw: string): FlowNumber {
  if (/^-?\d+$/.test(raw)) {
    const big = BigInt(raw);
    const negative = raw.startsWith("-");
    if (negative ? big < 0n && big >= I64_MIN : big <= U64_MAX) return new FlowNumber(big.toString(), Number.isSafeInteger(Number(big)) ? Number(big) : big);
  }
  const value = Number(raw);
  return new FlowNumber(formatF64(value), value);
}

/**
 * An f64 as serde_json prints it (ryu's `format64`): the shortest digits that read back as the
 * same double; positional when it has at most 16 digits before the point and fewer than 5
 * zeros after it (`1234.5`, `0.0001234`, `1e15` → `1000000000000000.0`), scientific otherwise
 * (`1e16`, `1e-7`, `1.5e17`), always with a `.0` or an exponent so that it reads back as a float.
 */
export function formatF64(value: number): string {
  if (!Number.isFinite(value)) return "null"; // serde_json writes non-finite floats as null
  if (value === 0) return Object.is(value, -0) ? "-0.0" : "0.0";
  const sign = value < 0 ? "-" : "";
  // toExponential() gives the shortest round-tripping digits: "d.ddde±x".
  const [mantissa, exp] = Math.abs(value).toExponential().split("e") as [string, string];
  const digits = mantissa.replace(".", "");
  const length = digits.length;
  const kk = Number(exp) + 1; // 10^(kk-1) <= |value| < 10^kk
  const k = kk - length;
  let out: string;
  if (k >= 0 && kk <= 16) out = digits + "0".repeat(k) + ".0";
  else if (kk > 0 && kk <= 16) out = `${digits.slice(0, kk)}.${digits.slice(kk)}`;
  else if (kk > -5 && kk <= 0) out = `0.${"0".repeat(-kk)}${digits}`;
  else if (length === 1) out = `${digits}e${kk - 1}`;
  else out = `${digits[0]}.${digits.slice(1)}e${kk - 1}`;
  return sign + out;
}

class FlowJsonSyntaxError extends SyntaxError {}

/** Parses JSON text, keeping numbers as Flow reads them. Throws a SyntaxError naming the offset. */
export function parseFlowJson(text: string): FlowValue {
  let i = 0;
  const fail = (what: string): never => {
    throw new FlowJsonSyntaxError(`${what} at offset ${i}`);
  };
  const space = () => {
    for (let c = text.charCodeAt(i); c === 32 || c === 10 || c === 13 || c === 9; c = text.charCodeAt(++i));
  };
  const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
  const string = (): string => {
    const start = i;
    let escaped = false;
    for (i++; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 92) {
        escaped = true;
        i++;
      } else if (c === 34) break;
      else if (c < 32) fail("control character in string");
    }
    if (i >= text.length) fail("unterminated string");
    i++;
    return escaped ? (JSON.parse(text.slice(start, i)) as string) : text.slice(start + 1, i - 1);
  };
  const value = (depth: number): FlowValue => {
    if (depth > 10_000) fail("nesting too deep");
    space();
    const c = text[i];
    if (c === "{") {
      i++;
      const out: FlowObject = new Map();
      space();
      if (text[i] === "}") {
        i++;
        return out;
      }
      for (;;) {
        space();
        if (text[i] !== '"') fail("expected a property name");
        const key = string();
        space();
        if (text[i] !== ":") fail("expected ':'");
        i++;
        out.set(key, value(depth + 1));
        space();
        if (text[i] === ",") i++;
        else if (text[i] === "}") {
          i++;
          return out;
        } else fail("expected ',' or '}'");
      }
    }
    if (c === "[") {
      i++;
      const out: FlowValue[] = [];
      space();
      if (text[i] === "]") {
        i++;
        return out;
      }
      for (;;) {
        out.push(value(depth + 1));
        space();
        if (text[i] === ",") i++;
        else if (text[i] === "]") {
          i++;
          return out;
        } else fail("expected ',' or ']'");
      }
    }
    if (c === '"') return string();
    if (text.startsWith("true", i)) return (i += 4), true;
    if (text.startsWith("false", i)) return (i += 5), false;
    if (text.startsWith("null", i)) return (i += 4), null;
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (!m) fail("unexpected character");
    i += m![0].length;
    return flowNumber(m![0]);
  };
  const out = value(0);
  space();
  if (i !== text.length) fail("unexpected text after the value");
  return out;
}

/** Orders strings by their UTF-8 bytes, as Rust compares `str`s (JS compares UTF-16 units). */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (astral code points, 4 UTF-8 bytes) sort after U+E000..U+FFFF (3 bytes).
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys && Math.max(x, y) >= 0xe000) return xs ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

/** Compact JSON with properties sorted as Flow sorts them, numbers as Flow prints them. */
export function stringifyFlowJson(value: FlowValue): string {
  if (value === null) return "null";
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "string") return JSON.stringify(value);
  if (value instanceof FlowNumber) return value.text;
  if (Array.isArray(value)) return `[${value.map(stringifyFlowJson).join(",")}]`;
  const keys = [...value.keys()].sort(compareUtf8);
  return `{${keys.map((k) => `${JSON.stringify(k)}:${stringifyFlowJson(value.get(k)!)}`).join(",")}}`;
}

/** A plain JSON value (from JSON.parse, or an option) as a FlowValue. */
export function toFlowValue(value: unknown): FlowValue {
  if (value === null || value === undefined) return null;
  if (typeof value === "boolean" || typeof value === "string") return value;
  if (typeof value === "number") return Number.isInteger(value) && Number.isSafeInteger(value) ? flowNumber(String(value)) : new FlowNumber(formatF64(value), value);
  if (typeof value === "bigint") return flowNumber(value.toString());
  if (Array.isArray(value)) return value.map(toFlowValue);
  if (value instanceof FlowNumber) return value;
  if (value instanceof Map) return value as FlowObject;
  return new Map(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, toFlowValue(v)]));
}

/** A FlowValue as plain JSON values (for schema validation and reporters); big integers become numbers. */
export function toPlainJson(value: FlowValue): unknown {
  if (value instanceof FlowNumber) return Number(value.value);
  if (Array.isArray(value)) return value.map(toPlainJson);
  if (value instanceof Map) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of value) Object.defineProperty(out, k, { value: toPlainJson(v), enumerable: true, writable: true, configurable: true });
    return out;
  }
  return value;
}

export function isFlowObject(value: FlowValue | undefined): value is FlowObject {
  return value instanceof Map;
}

function pointerTokens(pointer: string): string[] {
  return pointer === "" ? [] : pointer.split("/").slice(1).map((t) => t.replace(/~1/g, "/").replace(/~0/g, "~"));
}

/** The value at a JSON pointer, or undefined. */
export function flowPointer(value: FlowValue, pointer: string): FlowValue | undefined {
  let cur: FlowValue | undefined = value;
  for (const token of pointerTokens(pointer)) {
    if (isFlowObject(cur)) cur = cur.get(token);
    else if (Array.isArray(cur) && /^(0|[1-9]\d*)$/.test(token)) cur = cur[Number(token)];
    else return undefined;
  }
  return cur;
}

/** Sets the value at a JSON pointer of an object, creating (or replacing non-object) parents. */
export function setFlowPointer(root: FlowObject, pointer: string, value: FlowValue): void {
  const tokens = pointerTokens(pointer);
  let cur = root;
  for (const token of tokens.slice(0, -1)) {
    let next = cur.get(token);
    if (!isFlowObject(next)) cur.set(token, (next = new Map()));
    cur = next;
  }
  if (tokens.length) cur.set(tokens.at(-1)!, value);
}

/** RFC 7396: `patch` applied to `target` (null deletes). Returns a new value; inputs are not changed. */
export function applyFlowMergePatch(target: FlowValue | undefined, patch: FlowValue): FlowValue {
  if (!isFlowObject(patch)) return patch;
  const out: FlowObject = isFlowObject(target) ? new Map(target) : new Map();
  for (const [k, v] of patch) {
    if (v === null) out.delete(k);
    else out.set(k, applyFlowMergePatch(out.get(k), v));
  }
  return out;
}

/**
 * Two merge patches as one, the way Flow's runtime combines a transaction's checkpoints
 * (doc::reduce::merge_patch_schema: objects merge, anything else, null included, is the later
 * value's): nulls are kept, since they still have to delete from the state the patch is applied to.
 */
export function composeFlowMergePatches(earlier: FlowValue | undefined, later: FlowValue): FlowValue {
  if (!isFlowObject(later) || !isFlowObject(earlier)) return later;
  const out: FlowObject = new Map(earlier);
  for (const [k, v] of later) out.set(k, out.has(k) ? composeFlowMergePatches(out.get(k), v) : v);
  return out;
}

const TYPE_ORDER = (v: FlowValue): number => (v === null ? 0 : typeof v === "boolean" ? 1 : v instanceof FlowNumber ? 2 : typeof v === "string" ? 3 : Array.isArray(v) ? 4 : 5);

/**
 * Flow's total order of JSON values (doc::compare), by which a transaction's documents are
 * ordered on their key: null < booleans < numbers (by value) < strings (by UTF-8 bytes) < arrays
 * (item by item) < objects.
 */
export function compareFlowValues(a: FlowValue, b: FlowValue): number {
  const ta = TYPE_ORDER(a);
  const tb = TYPE_ORDER(b);
  if (ta !== tb) return ta - tb;
  if (typeof a === "boolean") return Number(a) - Number(b as boolean);
  if (a instanceof FlowNumber) {
    const x = a.value;
    const y = (b as FlowNumber).value;
    if (typeof x === "bigint" || typeof y === "bigint") {
      if (Number.isInteger(Number(x)) && Number.isInteger(Number(y))) {
        const bx = typeof x === "bigint" ? x : BigInt(x);
        const by = typeof y === "bigint" ? y : BigInt(y);
        return bx < by ? -1 : bx > by ? 1 : 0;
      }
    }
    return Number(x) < Number(y) ? -1 : Number(x) > Number(y) ? 1 : 0;
  }
  if (typeof a === "string") return compareUtf8(a, b as string);
  if (Array.isArray(a)) {
    const bb = b as FlowValue[];
    for (let i = 0; i < Math.min(a.length, bb.length); i++) {
      const c = compareFlowValues(a[i]!, bb[i]!);
      if (c) return c;
    }
    return a.length - bb.length;
  }
  if (a === null) return 0;
  const bo = b as FlowObject;
  const ka = [...a.keys()].sort(compareUtf8);
  const kb = [...bo.keys()].sort(compareUtf8);
  for (let i = 0; i < Math.min(ka.length, kb.length); i++) {
    const c = compareUtf8(ka[i]!, kb[i]!) || compareFlowValues(a.get(ka[i]!)!, bo.get(kb[i]!)!);
    if (c) return c;
  }
  return ka.length - kb.length;
}
