import { isPlainObject } from "../util/mergePatch.js";
import { getPointer, parsePointer } from "../util/jsonPointer.js";
import { FlowcapError } from "../util/errors.js";
import type { JsonSchemaObject } from "./schema.js";

/** `_meta` as the layer writes it: the operation, and for snapshot rows keyed by position, the row id. */
const META_SCHEMA = {
  type: "object",
  properties: {
    op: { enum: ["c", "u", "d"], description: "Create, update or delete: a deletion carries only the key." },
  },
} as const;

/**
 * A document schema under which a deletion (`{ <key>, _meta: { op: "d" } }`) is valid: the
 * top-level `required` keeps only the key's properties, the rest apply to other documents
 * only, and a deletion reduces as Flow's hard delete (`reduce: { strategy: merge, delete: true }`),
 * which materializations turn into a DELETE. `_meta.op` is declared. The input is not modified.
 */
export function deletableSchema(schema: JsonSchemaObject, key: readonly string[], options: { rowId?: boolean } = {}): JsonSchemaObject {
  const keyProperties = new Set(key.map((ptr) => parsePointer(ptr)[0]!));
  const required = Array.isArray(schema.required) ? (schema.required as string[]) : [];
  const keep = required.filter((r) => keyProperties.has(r));
  const rest = required.filter((r) => !keyProperties.has(r));
  const properties = isPlainObject(schema.properties) ? schema.properties : {};
  const existingMeta = isPlainObject(properties._meta) ? properties._meta : {};
  const meta = {
    ...META_SCHEMA,
    ...existingMeta,
    properties: {
      ...(isPlainObject(existingMeta.properties) ? existingMeta.properties : {}),
      ...META_SCHEMA.properties,
      ...(options.rowId ? { row_id: { type: "integer", description: "The document's position in its snapshot." } } : {}),
    },
    ...(options.rowId ? { required: ["row_id"] } : {}),
  };
  const out: Record<string, unknown> = { ...schema, properties: { ...properties, _meta: meta } };
  if (keep.length) out.required = keep;
  else delete out.required;
  const conditional = {
    if: { required: ["_meta"], properties: { _meta: { required: ["op"], properties: { op: { const: "d" } } } } },
    then: { reduce: { strategy: "merge", delete: true } },
    ...(rest.length ? { else: { required: rest } } : {}),
  };
  if ("if" in schema || "then" in schema || "else" in schema) {
    // The schema has a conditional of its own: keep it, beside this one.
    out.allOf = [...(Array.isArray(schema.allOf) ? schema.allOf : []), conditional];
  } else Object.assign(out, conditional);
  return out as JsonSchemaObject;
}

/** The key values of a document, as one JSON text (how snapshot state names a document). */
export function keyOf(doc: object, key: readonly string[], resource: string): string {
  const values = key.map((ptr) => {
    const value = getPointer(doc, ptr);
    if (value === undefined || (typeof value === "object" && value !== null)) {
      throw new FlowcapError(
        "RESPONSE_INVALID",
        `resource ${resource}: a document has ${value === undefined ? "no value" : "a non-scalar value"} at its key ${ptr}; every document needs a scalar at each key location`,
      );
    }
    return value;
  });
  return JSON.stringify(values);
}

/** A deletion of the document whose key values `keyText` (from keyOf) names. */
export function deletionOf(keyText: string, key: readonly string[]): Record<string, unknown> {
  const values = JSON.parse(keyText) as unknown[];
  const doc: Record<string, unknown> = {};
  key.forEach((ptr, i) => {
    const tokens = parsePointer(ptr);
    let at = doc;
    for (const token of tokens.slice(0, -1)) at = (at[token] ??= {}) as Record<string, unknown>;
    at[tokens.at(-1)!] = values[i];
  });
  const meta = (isPlainObject(doc._meta) ? doc._meta : {}) as Record<string, unknown>;
  doc._meta = { ...meta, op: "d" };
  return doc;
}
