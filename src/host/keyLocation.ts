import { isPlainObject } from "../util/mergePatch.js";

type Exists = "must" | "may" | "unknown" | "cannot";

interface Located {
  exists: Exists;
  /** The JSON types the schema allows there, when it says. */
  types?: Set<string>;
}

function resolve(schema: unknown, root: unknown, seen = new Set<string>()): unknown {
  if (!isPlainObject(schema) || typeof schema.$ref !== "string" || !schema.$ref.startsWith("#") || seen.has(schema.$ref)) return schema;
  const fragment = schema.$ref.slice(1);
  let target: unknown = root;
  if (fragment === "" || fragment.startsWith("/")) {
    for (const raw of fragment.split("/").filter(Boolean)) {
      const token = decodeURIComponent(raw).replace(/~1/g, "/").replace(/~0/g, "~");
      target = isPlainObject(target) ? target[token] : undefined;
    }
  } else target = findAnchor(root, decodeURIComponent(fragment)); // `#Name` names a `$anchor` (Estuary's SQL captures use these)
  if (target === undefined) return schema;
  const { $ref: _ref, ...rest } = schema;
  const resolved = resolve(target, root, new Set(seen).add(schema.$ref));
  // Keywords beside a $ref apply too: they intersect with it, as an allOf.
  return Object.keys(rest).length ? { allOf: [rest, resolved] } : resolved;
}

/** The subschema whose `$anchor` is `name`, searched depth-first through the whole document. */
function findAnchor(node: unknown, name: string): unknown {
  if (Array.isArray(node)) {
    for (const item of node) {
      const found = findAnchor(item, name);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (!isPlainObject(node)) return undefined;
  if (node.$anchor === name) return node;
  for (const value of Object.values(node)) {
    const found = findAnchor(value, name);
    if (found !== undefined) return found;
  }
  return undefined;
}

function typesOf(schema: unknown): Set<string> | undefined {
  if (!isPlainObject(schema)) return undefined;
  const t = schema.type;
  if (typeof t === "string") return new Set(t === "number" ? ["integer", "number"] : [t]);
  if (Array.isArray(t)) return new Set(t.flatMap((x) => (x === "number" ? ["integer", "number"] : [String(x)])));
  const values = schema.const !== undefined ? [schema.const] : Array.isArray(schema.enum) ? schema.enum : undefined;
  return values && new Set(values.map((v) => (v === null ? "null" : Array.isArray(v) ? "array" : Number.isInteger(v) ? "integer" : typeof v === "number" ? "number" : typeof v)));
}

function meet(a: Set<string> | undefined, b: Set<string> | undefined): Set<string> | undefined {
  if (!a) return b;
  if (!b) return a;
  return new Set([...a].filter((t) => b.has(t)));
}

/** The types a location may hold: its own `type`, met with its allOf branches' (and its parent's view of it). */
function nodeTypes(schema: unknown, root: unknown, inherited: Set<string> | undefined): Set<string> | undefined {
  let types = meet(inherited, typesOf(schema));
  if (isPlainObject(schema) && Array.isArray(schema.allOf)) for (const sub of schema.allOf) types = meet(types, typesOf(resolve(sub, root)));
  return types;
}

/**
 * Where `tokens` lead in `schema`, as Flow's shape inference sees it (crates/doc/src/shape/
 * location.rs): a property must exist when it is required of a location that can only be an
 * object, and its parent must exist; allOf branches all hold, one oneOf/anyOf branch does.
 */
function locate(schema: unknown, root: unknown, tokens: readonly string[], inherited?: Set<string>): Located {
  schema = resolve(schema, root);
  if (schema === false) return { exists: "cannot" };
  const types = nodeTypes(schema, root, inherited);
  if (types?.size === 0) return { exists: "cannot" }; // no value fits (allOf of integer and string)
  if (!isPlainObject(schema)) return tokens.length ? { exists: "unknown" } : { exists: "must", ...(types ? { types } : {}) };
  const parts: Located[] = [tokens.length ? locateChild(schema, root, tokens, types) : { exists: "must", ...(types ? { types } : {}) }];
  for (const sub of Array.isArray(schema.allOf) ? schema.allOf : []) parts.push(locate(sub, root, tokens, types));
  let out = intersect(parts);
  for (const key of ["oneOf", "anyOf"]) {
    const list = schema[key];
    if (Array.isArray(list) && list.length) out = intersect([out, union(list.map((sub) => locate(sub, root, tokens, types)))]);
  }
  return out;
}

function locateChild(schema: Record<string, unknown>, root: unknown, tokens: readonly string[], types: Set<string> | undefined): Located {
  const [token, ...rest] = tokens as [string, ...string[]];
  if (types && !types.has("object") && !types.has("array")) return { exists: "cannot" };
  // Required counts only where the location can hold nothing but an object (Flow's rule).
  const objectOnly = types !== undefined && types.size === 1 && types.has("object");
  // An array index must exist below minItems, where the location can only be an array (Flow's rule).
  const arrayOnly = types !== undefined && types.size === 1 && types.has("array");
  const required =
    (objectOnly && Array.isArray(schema.required) && schema.required.includes(token)) ||
    (arrayOnly && /^\d+$/.test(token) && typeof schema.minItems === "number" && Number(token) < schema.minItems);
  let child: unknown;
  if (isPlainObject(schema.properties) && Object.hasOwn(schema.properties, token)) child = schema.properties[token];
  else if (isPlainObject(schema.patternProperties)) {
    for (const [pattern, sub] of Object.entries(schema.patternProperties)) {
      try {
        if (child === undefined && new RegExp(pattern, "u").test(token)) child = sub;
      } catch {
        // A pattern JavaScript cannot read: no match.
      }
    }
  }
  if (child === undefined && /^\d+$/.test(token) && schema.items !== undefined) child = Array.isArray(schema.items) ? schema.items[Number(token)] : schema.items;
  if (child === undefined) child = schema.additionalProperties;
  if (child === false) return { exists: required ? "must" : "cannot" };
  if (child === undefined || child === true) return { exists: required && rest.length === 0 ? "must" : "unknown" };
  // Liberal where Flow is: a location with a default is published as a key by Estuary's own
  // connectors (hubspot-native keys /_meta/row_id, optional with default -1).
  const hasDefault = isPlainObject(child) && child.default !== undefined;
  const below = locate(child, root, rest);
  const here: Exists = required || hasDefault ? "must" : "may";
  const exists: Exists = below.exists === "cannot" ? "cannot" : below.exists === "unknown" ? "unknown" : here === "must" && below.exists === "must" ? "must" : "may";
  return { exists, ...(below.types ? { types: below.types } : {}) };
}

function intersect(parts: Located[]): Located {
  const has = (e: Exists) => parts.some((p) => p.exists === e);
  const exists: Exists = has("cannot") ? "cannot" : has("must") ? "must" : has("may") ? "may" : "unknown";
  let types: Set<string> | undefined;
  for (const p of parts) types = meet(types, p.types);
  return { exists, ...(types ? { types } : {}) };
}

function union(parts: Located[]): Located {
  const all = (e: Exists) => parts.every((p) => p.exists === e || p.exists === "cannot");
  const exists: Exists = parts.every((p) => p.exists === "cannot") ? "cannot" : all("must") ? "must" : parts.some((p) => p.exists === "must" || p.exists === "may") ? "may" : "unknown";
  const types = parts.every((p) => p.types || p.exists === "cannot") ? new Set(parts.flatMap((p) => [...(p.types ?? [])])) : undefined;
  return { exists, ...(types ? { types } : {}) };
}

/** The schemas given for `_meta`, at the root and in its allOf branches (Estuary's SQL captures put it in one). */
function metaSchemas(schema: unknown, root: unknown): unknown[] {
  schema = resolve(schema, root);
  if (!isPlainObject(schema)) return [];
  const own = isPlainObject(schema.properties) && schema.properties._meta !== undefined ? [schema.properties._meta] : [];
  return [...own, ...(Array.isArray(schema.allOf) ? schema.allOf.flatMap((sub) => metaSchemas(sub, root)) : [])];
}

/**
 * Why Flow would refuse `pointer` as a key of a collection with this schema, or undefined when it
 * would not. Flow walks each key with `walk_ptr(ptr, true)` (crates/validation/src/collection.rs)
 * and refuses a location it does not know (NoSuchPointer, KeyIsImplicit), one that may not exist
 * (KeyMayNotExist: it and its parents must be required), and one that may hold an object, an
 * array or a fractional number (KeyWrongType). `/_meta` is always there: the runtime writes
 * `/_meta/uuid` into every document.
 */
export function keyLocationProblem(schema: unknown, pointer: string): string | undefined {
  if (!pointer.startsWith("/")) return `${pointer} is not a JSON pointer (it must start with /)`;
  const tokens = pointer.split("/").slice(1).map((t) => t.replace(/~1/g, "/").replace(/~0/g, "~"));
  let found: Located;
  if (tokens[0] === "_meta" && tokens.length > 1) {
    const metas = metaSchemas(schema, schema);
    found = metas.length === 0 ? { exists: "unknown" } : locate(metas.length === 1 ? metas[0] : { allOf: metas }, schema, tokens.slice(1));
  } else found = locate(schema, schema, tokens);
  if (found.exists === "cannot") return `${pointer} can never exist in the document schema`;
  if (found.exists === "unknown") return `${pointer} is not a location the document schema knows (declare it under properties, and list it in required)`;
  if (found.exists === "may") return `${pointer} is not required to exist by the document schema (list it, and each of its parents, in required of a \`type: object\` schema)`;
  const wrong = found.types ? [...found.types].filter((t) => t === "object" || t === "array" || t === "number") : [];
  if (wrong.length) return `${pointer} may hold ${wrong.map((t) => (t === "number" ? "a fractional number" : `an ${t}`)).join(" or ")}, and keys may only be integers, strings or booleans`;
  return undefined;
}
