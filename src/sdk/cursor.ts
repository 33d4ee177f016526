import { FlowcapError } from "../util/errors.js";
import { isPlainObject } from "../util/mergePatch.js";
import { Checkpoint, SourcedSchema } from "./resource.js";

/**
 * A position in a source's log of changes, as a FetchChanges function yields it: a timestamp
 * (`Date`: "changed since"), a number (an offset or a sequence id), a string (an opaque token that
 * sorts as the log does, or a fixed-format timestamp), or a tuple of strings and numbers compared
 * element by element (`[timestamp, id]`).
 */
export type LogCursor = Date | number | string | readonly (string | number)[];

/**
 * A cursor type as a definition means it: `initialCursor: 0` infers the literal type `0`, but the
 * resource's cursors are numbers.
 */
export type WidenCursor<C> = C extends number ? number : C extends string ? string : C;

/**
 * A position in a paged listing, as a FetchPage function yields it: an opaque page token, an
 * offset or page number, or a tuple. A structured cursor (an object) is yielded wrapped in
 * `pageCursor({...})`, since a bare object would be taken for a document.
 */
export type PageCursor = string | number | readonly unknown[] | { readonly [key: string]: unknown };

/** A cursor wrapped so that it cannot be taken for a document (see `pageCursor`). */
export class CursorValue<C> {
  constructor(readonly value: C) {}
}

/**
 * Wraps a cursor for yielding from a fetch function. Needed only for an object PageCursor
 * (`yield pageCursor({ since, offset })`); any other cursor may be yielded as it is.
 */
export function pageCursor<P extends PageCursor>(value: P): CursorValue<P> {
  return new CursorValue(value);
}

/**
 * Whether a yielded item is a document: an object that is not one of the SDK's markers
 * (Checkpoint, SourcedSchema, CursorValue).
 * Everything else (a Date, a number, a string, an array, a CursorValue) is a cursor.
 */
export function isDocumentItem(item: unknown): item is Record<string, unknown> {
  if (typeof item !== "object" || item === null) return false;
  const proto = Object.getPrototypeOf(item) as unknown;
  // JSON.parse and literals give Object.prototype; documents of user classes are objects too.
  if (proto === Object.prototype || proto === null) return true;
  return !(item instanceof Date || Array.isArray(item) || item instanceof CursorValue || item instanceof SourcedSchema || item instanceof Checkpoint);
}

/**
 * A cursor as stored in state: JSON, with a Date as `{"$date": "<ISO-8601>"}` (the form MongoDB's
 * extended JSON uses), so that a string cursor that happens to look like a date stays a string.
 */
export type StoredCursor = number | string | readonly (string | number)[] | { $date: string } | readonly unknown[] | { [key: string]: unknown };

export function encodeCursor(cursor: LogCursor | PageCursor): StoredCursor {
  if (cursor instanceof Date) {
    if (Number.isNaN(cursor.getTime())) throw new FlowcapError("RESPONSE_INVALID", "a cursor is an invalid Date");
    return { $date: cursor.toISOString() };
  }
  if (typeof cursor === "number" && !Number.isFinite(cursor)) throw new FlowcapError("RESPONSE_INVALID", `a cursor is ${cursor}, which JSON cannot hold`);
  return cursor as StoredCursor;
}

export function decodeCursor<C>(stored: unknown): C {
  if (isPlainObject(stored) && typeof stored.$date === "string" && Object.keys(stored).length === 1) {
    const date = new Date(stored.$date);
    if (Number.isNaN(date.getTime())) throw new FlowcapError("STATE_INVALID", `stored cursor ${JSON.stringify(stored)} is not a valid date`);
    return date as C;
  }
  return stored as C;
}

/** A cursor reduced to something `compareComparable` orders: a Date becomes epoch milliseconds. */
export type Comparable = number | string | readonly (number | string)[];

/** The kind of a log cursor, which decides how document cursor values are read and compared. */
export type CursorKind = "date" | "number" | "string" | "tuple";

export function cursorKind(cursor: LogCursor): CursorKind {
  if (cursor instanceof Date) return "date";
  if (typeof cursor === "number") return "number";
  if (typeof cursor === "string") return "string";
  if (Array.isArray(cursor)) return "tuple";
  throw new FlowcapError("RESPONSE_INVALID", `${describe(cursor)} is not a LogCursor (a Date, a number, a string or an array of strings and numbers)`);
}

export function toComparable(cursor: LogCursor): Comparable {
  return cursor instanceof Date ? cursor.getTime() : (cursor as Comparable);
}

/**
 * A document's cursor value (read at the resource's cursorField) as a Comparable of `kind`, or
 * undefined when it is missing or not readable as that kind (such a document is never deduplicated).
 */
export function comparableOf(value: unknown, kind: CursorKind): Comparable | undefined {
  switch (kind) {
    case "date": {
      const ms = value instanceof Date ? value.getTime() : typeof value === "string" ? Date.parse(value) : typeof value === "number" ? value : NaN;
      return Number.isNaN(ms) ? undefined : ms;
    }
    case "number":
      return typeof value === "number" ? value : typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value)) ? Number(value) : undefined;
    case "string":
      return typeof value === "string" ? value : typeof value === "number" ? String(value) : undefined;
    case "tuple":
      return Array.isArray(value) && value.every((v) => typeof v === "string" || typeof v === "number") ? (value as (string | number)[]) : undefined;
  }
}

/** Orders two comparables of the same kind: negative, zero or positive. */
export function compareComparable(a: Comparable, b: Comparable): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  if (typeof a === "string" && typeof b === "string") return a < b ? -1 : a > b ? 1 : 0;
  if (Array.isArray(a) && Array.isArray(b)) {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) {
      const c = compareComparable(a[i] as number | string, b[i] as number | string);
      if (c !== 0) return c;
    }
    return a.length - b.length;
  }
  // Mixed element types inside tuples: numbers sort before strings, as in most logs' orderings.
  return typeof a === "number" ? -1 : 1;
}

export function describe(value: unknown): string {
  if (value instanceof Date) return `Date ${value.toISOString()}`;
  if (value === undefined) return "undefined";
  try {
    const text = JSON.stringify(value);
    return text.length > 120 ? text.slice(0, 117) + "..." : text;
  } catch {
    return String(value);
  }
}
