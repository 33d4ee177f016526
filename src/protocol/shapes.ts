import { wireDefinitions } from "./generated/schemas.js";

/**
 * The codec's view of a wire message, derived once from the generated schemas: which fields a
 * message has, in Flow's order, and which values are embedded JSON passed through untouched.
 */
export type Shape =
  | { kind: "raw" }
  | { kind: "scalar" }
  | { kind: "array"; items: Shape }
  | { kind: "map"; values: Shape }
  | { kind: "object"; fields: FieldShape[]; byName: Map<string, FieldShape> };

export interface FieldShape {
  /** The JSON name Flow writes. */
  name: string;
  /**
   * The proto field name, which Flow's decoder takes as well as the JSON name: the explicit one
   * (`doc_json` for `doc`), else the JSON name in snake_case (`merge_patch` for `mergePatch`).
   */
  protoName: string;
  shape: Shape;
  /** An encode option that must be set for this field to be written (version-gated fields). */
  optIn?: string;
}

type SchemaNode = { readonly [key: string]: unknown };
const definitions = wireDefinitions as unknown as Record<string, SchemaNode>;
const cache = new Map<string, Shape>();

/** The shape of a named wire definition, such as `OpenRequest` or `SpecResponse`. */
export function shapeOf(definition: string): Shape {
  let shape = cache.get(definition);
  if (!shape) {
    const node = definitions[definition];
    if (!node) throw new Error(`no wire definition named ${definition}`);
    // Placeholder first, so a recursive definition resolves to the same (filled-in) object.
    const placeholder = { kind: "object", fields: [], byName: new Map() } as Shape;
    cache.set(definition, placeholder);
    shape = Object.assign(placeholder, build(node));
  }
  return shape;
}

function build(node: SchemaNode): Shape {
  if (typeof node.$ref === "string") return shapeOf(node.$ref.replace("#/definitions/", ""));
  if (node["x-raw"] === true) return { kind: "raw" };
  const type = node.type;
  if (type === "array") return { kind: "array", items: node.items ? build(node.items as SchemaNode) : { kind: "raw" } };
  if (type === "object" && node.properties) {
    const fields: FieldShape[] = [];
    const byName = new Map<string, FieldShape>();
    for (const [name, sub] of Object.entries(node.properties as Record<string, SchemaNode>)) {
      const explicitProtoName = typeof sub["x-proto-name"] === "string" ? sub["x-proto-name"] : undefined;
      const field: FieldShape = { name, protoName: explicitProtoName ?? snakeCase(name), shape: build(sub) };
      if (typeof sub["x-opt-in"] === "string") field.optIn = sub["x-opt-in"];
      fields.push(field);
      byName.set(name, field);
      // Flow's decoder also takes the proto field name (`config_json` for `config`).
      if (explicitProtoName) byName.set(explicitProtoName, field);
    }
    return { kind: "object", fields, byName };
  }
  if (type === "object" && node.additionalProperties && typeof node.additionalProperties === "object") {
    return { kind: "map", values: build(node.additionalProperties as SchemaNode) };
  }
  if (type === "object") return { kind: "raw" };
  return { kind: "scalar" };
}

/** `mergePatch` → `merge_patch`: a proto field name from its lowerCamelCase JSON name. */
function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => "_" + c.toLowerCase());
}
