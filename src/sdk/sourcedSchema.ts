import { FlowcapError } from "../util/errors.js";
import { isPlainObject } from "../util/mergePatch.js";
import type { JsonSchemaObject } from "./schema.js";

const SUBSCHEMA_LISTS = ["allOf", "anyOf", "oneOf", "prefixItems"] as const;
const SUBSCHEMAS = ["items", "additionalItems", "not", "if", "then", "else", "contains"] as const;
const SUBSCHEMA_MAPS = ["properties", "patternProperties", "$defs", "definitions"] as const;

/**
 * A sourced schema as Flow takes it: Flow refuses one with an object that declares `properties`
 * but allows other properties ("SourcedSchema has errors"). Objects that do not say are closed
 * here (`additionalProperties: false`); one that explicitly allows more is the connector's
 * mistake, reported with its location. The input is not modified.
 */
export function closeSourcedSchema(schema: JsonSchemaObject | boolean): JsonSchemaObject | boolean {
  return close(schema, "") as JsonSchemaObject | boolean;
}

function close(node: unknown, at: string): unknown {
  if (!isPlainObject(node)) return node;
  const out: Record<string, unknown> = { ...node };
  if (isPlainObject(node.properties)) {
    if (node.additionalProperties === undefined) out.additionalProperties = false;
    else if (node.additionalProperties !== false) {
      throw new FlowcapError(
        "RESPONSE_INVALID",
        `a sourced schema must be closed, but the object at ${at || "its root"} allows additionalProperties: give additionalProperties: false (or leave it out)`,
      );
    }
  }
  for (const k of SUBSCHEMA_LISTS) if (Array.isArray(node[k])) out[k] = (node[k] as unknown[]).map((s, i) => close(s, `${at}/${k}/${i}`));
  for (const k of SUBSCHEMAS) if (node[k] !== undefined) out[k] = close(node[k], `${at}/${k}`);
  for (const k of SUBSCHEMA_MAPS) {
    if (isPlainObject(node[k])) out[k] = Object.fromEntries(Object.entries(node[k]).map(([name, s]) => [name, close(s, `${at}/${k}/${name}`)]));
  }
  return out;
}
