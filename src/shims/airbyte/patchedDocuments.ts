/**
 * What airbyte-to-flow does to each record before Flow sees it (`automatic_normalizations` and
 * `normalize_doc` in `airbyte-to-flow/src/interceptors/normalize.rs`, estuary/airbyte commit
 * 1465a983e627c51f6f10a398048aafcdc21ccc84):
 *
 * 1. Every value the collection's write schema declares `format: date-time` (found by
 *    `traverseSchema`) that is not RFC 3339 already is rewritten as RFC 3339 in UTC when it parses
 *    (see looseDateTime.ts): `"2023-01-30 02:34:15"` → `"2023-01-30T02:34:15Z"`, a Unix
 *    timestamp number → its date-time. Flow validates `format: date-time`, so without this such
 *    a record would fail the capture.
 * 2. Then `streams/<stream>.normalize.json`: `datetime_to_date` cuts a string at its pointer to
 *    its leading `YYYY-MM-DD` (unless it already is a date).
 *
 * Departs from the Rust code for values inside arrays: it expands only the last `*` of a path and
 * only one property past it (and panics on an array of date-time strings); here every `*` is
 * expanded at every depth, which is what the schema says.
 */
import { isPlainObject, type JsonObject } from "../../util/mergePatch.js";
import { formatRfc3339, instantFromNumber, isIsoDate, isRfc3339, parseLooseDateTime } from "./looseDateTime.js";
import type { DocumentNormalization } from "./patchSet.js";
import { flowPointerTokens, traverseSchema } from "./patchedSchema.js";

/** Rewrites a document in place; returns whether anything changed. */
export type DocumentNormalizer = (doc: JsonObject) => boolean;

/**
 * The normalizer of a binding, or undefined when it has nothing to do (no date-time in its write
 * schema, no normalizations): such bindings keep the shim's record fast path, whose bytes are
 * never parsed.
 */
export function createDocumentNormalizer(writeSchema: unknown, normalizations: readonly DocumentNormalization[] = []): DocumentNormalizer | undefined {
  const dateTimes: string[][] = [];
  traverseSchema(writeSchema, (node, path) => {
    if (node.format === "date-time" && path.length > 0) dateTimes.push([...path]);
  });
  const toDate = normalizations.map((n) => flowPointerTokens(n.pointer));
  if (dateTimes.length === 0 && toDate.length === 0) return undefined;
  return (doc) => {
    let changed = false;
    for (const path of dateTimes) if (rewrite(doc, path, 0, toRfc3339)) changed = true;
    for (const tokens of toDate) if (rewriteAt(doc, tokens, toIsoDate)) changed = true;
    return changed;
  };
}

/** A date-time value as RFC 3339, or undefined to leave it. */
function toRfc3339(value: unknown): string | undefined {
  if (typeof value === "string") {
    if (isRfc3339(value)) return undefined;
    const instant = parseLooseDateTime(value);
    return instant ? formatRfc3339(instant) : undefined;
  }
  if (typeof value === "number") {
    const instant = instantFromNumber(value);
    return instant ? formatRfc3339(instant) : undefined;
  }
  return undefined;
}

function toIsoDate(value: unknown): string | undefined {
  if (typeof value !== "string" || isIsoDate(value)) return undefined;
  return /^[0-9]{4}-[0-9]{2}-[0-9]{2}/.exec(value)?.[0];
}

/** Rewrites the values at a schema path (`*` = every item of an array). */
function rewrite(node: unknown, path: readonly string[], at: number, fn: (v: unknown) => string | undefined): boolean {
  const token = path[at]!;
  const last = at === path.length - 1;
  if (token === "*" && Array.isArray(node)) {
    let changed = false;
    for (let i = 0; i < node.length; i++) {
      if (last) {
        const next = fn(node[i]);
        if (next !== undefined) {
          node[i] = next;
          changed = true;
        }
      } else if (rewrite(node[i], path, at + 1, fn)) changed = true;
    }
    return changed;
  }
  if (!isPlainObject(node) || !Object.prototype.hasOwnProperty.call(node, token)) return false;
  if (!last) return rewrite(node[token], path, at + 1, fn);
  const next = fn(node[token]);
  if (next === undefined) return false;
  node[token] = next;
  return true;
}

/** Rewrites the value at a document pointer (array indices allowed). */
function rewriteAt(doc: JsonObject, tokens: readonly string[], fn: (v: unknown) => string | undefined): boolean {
  if (tokens.length === 0) return false;
  let cur: unknown = doc;
  for (const t of tokens.slice(0, -1)) {
    if (Array.isArray(cur) && /^(0|[1-9][0-9]*)$/.test(t)) cur = cur[Number(t)];
    else if (isPlainObject(cur)) cur = cur[t];
    else return false;
  }
  const leaf = tokens.at(-1)!;
  if (Array.isArray(cur) && /^(0|[1-9][0-9]*)$/.test(leaf)) {
    const next = fn(cur[Number(leaf)]);
    if (next === undefined) return false;
    cur[Number(leaf)] = next;
    return true;
  }
  if (!isPlainObject(cur) || !Object.prototype.hasOwnProperty.call(cur, leaf)) return false;
  const next = fn(cur[leaf]);
  if (next === undefined) return false;
  cur[leaf] = next;
  return true;
}
