/**
 * The schema rules of Estuary's airbyte-to-flow shim, applied by `flowcap airbyte --patches` so a
 * connector moved off that shim discovers the same bindings. Read from
 * `airbyte-to-flow/src/interceptors/fix_document_schema.rs`, `remap.rs` and
 * `airbyte_source_interceptor.rs` at estuary/airbyte commit 1465a983e627c51f6f10a398048aafcdc21ccc84.
 * Each function says where it departs from the Rust code, and why.
 */
import { FlowcapError } from "../../util/errors.js";
import { isPlainObject, type JsonObject } from "../../util/mergePatch.js";
import { toPointer } from "../../util/jsonPointer.js";

/**
 * Visits a schema as airbyte-to-flow's `traverse_jsonschema` does: the node, then each schema
 * under `properties`, then the one under `items` (its path token is `*`). It does not descend
 * into `oneOf`, `anyOf`, `allOf`, `$defs` or `additionalProperties`, so neither do the rules
 * built on it. `path` holds the property names (unescaped) from the root.
 */
export function traverseSchema(schema: unknown, visit: (node: JsonObject, path: readonly string[]) => void, path: string[] = []): void {
  if (!isPlainObject(schema)) return;
  visit(schema, path);
  if (isPlainObject(schema.properties)) {
    for (const [key, sub] of Object.entries(schema.properties)) traverseSchema(sub, visit, [...path, key]);
  }
  if (schema.items !== undefined) traverseSchema(schema.items, visit, [...path, "*"]);
}

/**
 * The `format` values Flow's schema validator knows (`json::schema::formats::Format` in
 * estuary/flow `crates/json/src/schema/formats.rs`, with its aliases `datetime`, `uint32` and
 * `uint64`). airbyte-to-flow keeps only these.
 */
export const FLOW_FORMATS: ReadonlySet<string> = new Set([
  "date", "date-time", "datetime", "time", "email", "hostname", "idn-hostname", "idn-email", "ipv4", "ipv6", "macaddr", "macaddr8", "uuid",
  "duration", "iri", "uri", "uri-reference", "iri-reference", "uri-template", "json-pointer", "regex", "relative-json-pointer",
  "integer", "uint32", "uint64", "number", "sha256",
]);

/** Keywords Airbyte uses for its own UI and types, which airbyte-to-flow removes from every schema node it visits. */
const AIRBYTE_KEYWORDS = ["airbyte_hidden", "always_show", "group", "groups", "pattern_descriptor", "airbyte_type", "name", "xml"];

/**
 * `fix_nonstandard_jsonschema_attributes`, applied to the spec's config schema and to every
 * document schema: drops Airbyte's own keywords (`airbyte_hidden`, `group`, `airbyte_type`,
 * `pattern_descriptor`, `name`, `xml`, …), turns `format: int32|int64` into `format: integer`,
 * and drops any other `format` Flow does not know (Salesforce's, for one). In place.
 */
export function fixNonstandardAttributes(schema: unknown): void {
  traverseSchema(schema, (node) => {
    for (const keyword of AIRBYTE_KEYWORDS) delete node[keyword];
    const format = node.format;
    if (typeof format !== "string") return;
    if (format === "int32" || format === "int64") node.format = "integer";
    else if (!FLOW_FORMATS.has(format)) delete node.format;
  });
}

/**
 * `remove_enums`: SaaS enums grow, and a value a source adds later would fail the collection's
 * schema, so every `enum` goes. A node left without a `type` gets the types of its enum's values
 * (one name, or a sorted list of names). In place. (JSON numbers are typed by value: Rust's
 * `1.0` is a `number` there, an `integer` here, since JSON.parse cannot tell them apart.)
 */
export function removeEnums(schema: unknown): void {
  traverseSchema(schema, (node) => {
    if (!("enum" in node)) return;
    const values = node.enum;
    delete node.enum;
    if ("type" in node || !Array.isArray(values)) return;
    const types = [...new Set(values.map(jsonType))].sort();
    if (types.length === 1) node.type = types[0];
    else if (types.length > 1) node.type = types;
  });
}

function jsonType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value === "boolean" ? "boolean" : typeof value === "string" ? "string" : "object";
}

/** `normalize_schema_date_to_datetime` (`schema_normalizations.json`: `date-to-datetime`): `format: date` becomes `date-time`. In place. */
export function dateToDateTime(schema: unknown): void {
  traverseSchema(schema, (node) => {
    if (node.format === "date") node.format = "date-time";
  });
}

/**
 * `fix_document_schema_keys`: every property on the way to a key component becomes required,
 * and loses `null` from its `type` list (a one-type list then becomes that type; the parent
 * object's list loses `null` but stays a list). Like the Rust code, `null` is taken out with a
 * swap-remove, so the last type moves into its place; a parent with `allOf`, `anyOf` or `not`
 * stops the fixing there (the schema is returned as fixed so far); a parent with `$ref` is fixed
 * in `$defs[<ref>]`; a key through an array index, or through a property the schema does not
 * declare, is an error naming the key.
 *
 * Departs from the Rust code where that code panics: a `required` that is not a list, and a key
 * that goes through a `$ref` and on into a nested object (the Rust code then loses its place).
 */
export function fixDocumentSchemaKeys(schema: JsonObject, keys: readonly string[], stream: string): JsonObject {
  const doc = structuredClone(schema);
  for (const key of keys) {
    let parent: JsonObject = doc;
    const walked: string[] = [];
    for (const token of flowPointerTokens(key)) {
      if (/^(0|[1-9][0-9]*)$/.test(token)) {
        throw keyError(stream, key, `cannot use the array index /${token}/ in a key (at ${toPointer(walked) || "the root"})`);
      }
      if ("allOf" in parent || "anyOf" in parent || "not" in parent) return doc;
      if ("$ref" in parent) {
        const ref = parent.$ref;
        const defs = isPlainObject(doc.$defs) ? doc.$defs : undefined;
        const resolved = typeof ref === "string" && defs ? defs[ref] : undefined;
        if (!isPlainObject(resolved)) throw keyError(stream, key, `expected to find $ref ${JSON.stringify(ref)} in $defs`);
        parent = resolved;
      }
      if (parent.required === undefined) parent.required = [token];
      else if (Array.isArray(parent.required)) {
        if (!parent.required.includes(token)) parent.required.push(token);
      } else throw keyError(stream, key, `"required" of ${toPointer(walked) || "the root"} is not a list`);
      if (Array.isArray(parent.type)) swapRemoveNull(parent.type);
      const props = isPlainObject(parent.properties) ? parent.properties : undefined;
      const prop = props?.[token];
      if (!isPlainObject(prop)) {
        throw keyError(stream, key, `the document schema has no property ${JSON.stringify(token)} under ${toPointer(walked) || "the root"} (a key must be declared; patch the schema with streams/<name>.patch.json)`);
      }
      if (Array.isArray(prop.type)) {
        swapRemoveNull(prop.type);
        // Some sources need a single `type` for key fields.
        if (prop.type.length === 1) prop.type = prop.type[0];
      }
      walked.push("properties", token);
      parent = prop;
    }
  }
  return doc;
}

function swapRemoveNull(types: unknown[]): void {
  const i = types.indexOf("null");
  if (i < 0) return;
  const last = types.pop();
  if (i < types.length) types[i] = last;
}

function keyError(stream: string, key: string, message: string): FlowcapError {
  return new FlowcapError("CATALOG_INVALID", `stream ${JSON.stringify(stream)}, key ${key}: ${message}`, { userFacing: true });
}

/**
 * A pointer's tokens as Flow's `json::Pointer::from_str` reads them: a leading `/` is optional,
 * `~1` and `~0` are unescaped.
 */
export function flowPointerTokens(pointer: string): string[] {
  if (pointer === "") return [];
  const parts = pointer.split("/");
  if (pointer.startsWith("/")) parts.shift();
  return parts.map((t) => t.replace(/~1/g, "/").replace(/~0/g, "~"));
}

/**
 * `stream_to_recommended_name`: each `/`-separated part of the stream's name keeps only letters,
 * digits, `-`, `.` and `_` (the rest is dropped, not replaced), and empty parts go. The namespace
 * is not part of it. The `streams/<name>.…` patch files are found by this name.
 */
export function atfRecommendedName(stream: string): string {
  return stream
    .split("/")
    .map((part) => part.replace(/[^\p{Alphabetic}\p{N}\-._]/gu, ""))
    .filter((part) => part !== "")
    .join("/");
}

/**
 * `remap` (`spec.map.json`): for each `{to: from}`, the value at `from` in the config moves to
 * `to` (made as needed) and `from` is removed from its parent, which stays (so `credentials`
 * may remain as `{}`). Values are read from the config as it was before any move. A `from` the
 * config does not have is an error, as in the Rust code, naming the pointer.
 */
export function remapConfig(config: JsonObject, map: Readonly<Record<string, string>>): JsonObject {
  const before = structuredClone(config);
  const out = structuredClone(config);
  for (const [to, from] of Object.entries(map)) {
    const value = pointerValue(before, flowPointerTokens(from));
    if (value === undefined) throw mapError(`the config has nothing at ${from}, which spec.map.json moves to ${to || "the root"}`);
    if (to !== "") {
      if (!setPointer(out, flowPointerTokens(to), structuredClone(value))) throw mapError(`cannot put ${from} at ${to}: a value on the way is not an object`);
    }
    removePointer(out, from);
  }
  return out;
}

/**
 * The inverse of `remapConfig`, for a config the source hands back (a CONTROL connectorConfig
 * message): each value moves from the source's place back to Flow's. Pointers the source's
 * config does not have are left alone.
 */
export function unmapConfig(config: JsonObject, map: Readonly<Record<string, string>>): JsonObject {
  const before = structuredClone(config);
  const out = structuredClone(config);
  for (const [to, from] of Object.entries(map)) {
    if (to === "") continue;
    const value = pointerValue(before, flowPointerTokens(to));
    if (value === undefined) continue;
    setPointer(out, flowPointerTokens(from), structuredClone(value));
    removePointer(out, to);
  }
  return out;
}

function pointerValue(doc: unknown, tokens: readonly string[]): unknown {
  let cur: unknown = doc;
  for (const t of tokens) {
    if (Array.isArray(cur) && /^(0|[1-9][0-9]*)$/.test(t)) cur = cur[Number(t)];
    else if (isPlainObject(cur) && Object.prototype.hasOwnProperty.call(cur, t)) cur = cur[t];
    else return undefined;
  }
  return cur;
}

/** Sets a value, making missing (or null) objects on the way, as Flow's `create_value` does. */
function setPointer(doc: JsonObject, tokens: readonly string[], value: unknown): boolean {
  let cur: JsonObject = doc;
  for (const [i, t] of tokens.entries()) {
    if (i === tokens.length - 1) {
      cur[t] = value;
      return true;
    }
    if (cur[t] === undefined || cur[t] === null) cur[t] = {};
    const next = cur[t];
    if (!isPlainObject(next)) return false;
    cur = next;
  }
  return true;
}

/** Removes the last token of `pointer` from its parent, split at the last `/` as the Rust code does. */
function removePointer(doc: JsonObject, pointer: string): void {
  const at = pointer.lastIndexOf("/");
  const parent = pointerValue(doc, flowPointerTokens(pointer.slice(0, at)));
  if (isPlainObject(parent)) delete parent[pointer.slice(at + 1)];
}

function mapError(message: string): FlowcapError {
  return new FlowcapError("CONFIG_INVALID", `spec.map.json: ${message}`, { userFacing: true });
}
