/**
 * What every shim's discovered bindings share: the row-id key of streams without a key of their
 * own, the `_meta` every captured document carries, the rule that lets a `_meta.op: "d"`
 * document delete its row, and collection names made from stream names.
 */
import { isPlainObject, type JsonObject } from "../util/mergePatch.js";

/** The key of a collection whose documents have no key of their own. */
export const ROW_ID_KEY = "/_meta/row_id";

/** `_meta`, as every captured document carries it. */
const META_SCHEMA = { type: "object", properties: { row_id: { type: "integer" } }, required: ["row_id"] };

export interface DocumentSchemaOptions {
  /**
   * The stream's rows can be deleted: a `_meta.op: "d"` document carries only its key and
   * `_meta`, so the schema's root `required` moves under `else` of an `if` that recognizes
   * deletions, whose `then` tells Flow's reduction to delete the row.
   */
  deletions?: boolean;
  /**
   * Top-level properties that make up the collection's key: they are required of every
   * document (Flow keys must exist), deletions included.
   */
  keyProperties?: readonly string[];
  /**
   * The collection key as JSON pointers (an Airbyte stream's primary key): each location, with
   * every parent, is made required and not nullable, as Estuary's Airbyte shim does
   * (`fix_document_schema_keys`), since Flow refuses a key that may not exist. A location the
   * schema does not declare, or one under `$ref`/`allOf`/`anyOf`, is left as it is.
   */
  keyPointers?: readonly string[];
}

/**
 * A stream's document schema: its JSON schema (not modified) with `_meta.row_id` declared, its
 * key properties required, and, with `deletions`, the deletion rule described above.
 */
export function documentSchema(jsonSchema: unknown, options: DocumentSchemaOptions = {}): JsonObject {
  const schema: JsonObject = isPlainObject(jsonSchema) ? structuredClone(jsonSchema) : { type: "object" };
  const properties: JsonObject = isPlainObject(schema.properties) ? schema.properties : {};
  const existing = properties._meta;
  if (isPlainObject(existing)) {
    const props = isPlainObject(existing.properties) ? existing.properties : {};
    const required = Array.isArray(existing.required) ? existing.required : [];
    properties._meta = {
      ...existing,
      properties: { ...props, row_id: META_SCHEMA.properties.row_id },
      required: required.includes("row_id") ? required : [...required, "row_id"],
    };
  } else {
    properties._meta = structuredClone(META_SCHEMA);
  }
  schema.properties = properties;
  for (const pointer of options.keyPointers ?? []) requireKeyLocation(schema, pointer);
  const keys = options.keyProperties ?? [];
  const required: unknown[] = Array.isArray(schema.required) ? schema.required : [];
  if (options.deletions && schema.if === undefined && schema.then === undefined && schema.else === undefined) {
    const rest = required.filter((r) => !keys.includes(r as string));
    if (keys.length) schema.required = [...keys];
    else delete schema.required;
    schema.if = { required: ["_meta"], properties: { _meta: { required: ["op"], properties: { op: { const: "d" } } } } };
    schema.then = { reduce: { strategy: "merge", delete: true } };
    if (rest.length) schema.else = { required: rest };
  } else if (keys.length) {
    schema.required = [...required, ...keys.filter((k) => !required.includes(k))];
  }
  return schema;
}

/** A `type` without "null"; a key's own type left with one entry becomes that string (as Estuary's shim does). */
function withoutNull(type: unknown, collapse: boolean): unknown {
  if (!Array.isArray(type) || !type.includes("null")) return type;
  const rest = type.filter((t) => t !== "null");
  return collapse && rest.length === 1 ? rest[0] : rest;
}

/** Makes the location at `pointer` (and each parent) required and not nullable, where the schema declares it plainly. */
function requireKeyLocation(schema: JsonObject, pointer: string): void {
  const tokens = pointer.split("/").slice(1).map((t) => t.replace(/~1/g, "/").replace(/~0/g, "~"));
  let node = schema;
  for (const token of tokens) {
    if (node.$ref !== undefined || node.allOf !== undefined || node.anyOf !== undefined || node.oneOf !== undefined) return;
    const child = isPlainObject(node.properties) ? node.properties[token] : undefined;
    if (!isPlainObject(child)) return;
    if (node.type === undefined) node.type = "object";
    node.type = withoutNull(node.type, false);
    const required = Array.isArray(node.required) ? node.required : [];
    if (!required.includes(token)) node.required = [...required, token];
    if (child.type !== undefined) child.type = withoutNull(child.type, true);
    node = child;
  }
}

/**
 * Whether a collection's schema lets a `_meta.op: "d"` document delete its row: it has the
 * deletion rule `documentSchema` writes with `deletions` (a `then` that reduces with
 * `delete: true`). A collection discovered before its shim deleted rows has none, and a deletion
 * document would then be stored as a row (or fail the schema's `required`).
 */
export function acceptsDeletions(schema: unknown): boolean {
  if (!isPlainObject(schema) || !isPlainObject(schema.then)) return false;
  const reduce = schema.then.reduce;
  return isPlainObject(reduce) && reduce.delete === true;
}

/**
 * A collection name for a stream: each `/`-separated part keeps Unicode letters and digits and
 * `-`, `_`, `.`; anything else becomes `_`. Empty parts are dropped.
 */
export function recommendedName(stream: string, namespace?: string): string {
  const full = namespace ? `${namespace}/${stream}` : stream;
  const parts = full
    .split("/")
    .map((part) => part.replace(/[^\p{L}\p{N}\-_.]/gu, "_"))
    .filter((part) => part !== "" && part !== "." && part !== "..");
  return parts.length ? parts.join("/") : "stream";
}

/** Makes `name` unique among `taken` (adding `_2`, `_3`, ...), and takes it. */
export function uniqueName(name: string, taken: Set<string>): string {
  let out = name;
  for (let n = 2; taken.has(out); n++) out = `${name}_${n}`;
  taken.add(out);
  return out;
}
