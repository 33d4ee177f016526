import type { ErrorObject } from "ajv";
import { isPlainObject } from "../util/mergePatch.js";
import { readablePath } from "../util/jsonPointer.js";
import { responseVariants } from "./generated/schemas.js";
import * as responseValidators from "./generated/responseValidators.js";
import { RESPONSE_VARIANTS, type ResponseVariant } from "./encode.js";
import { shapeOf, type FieldShape, type Shape } from "./shapes.js";

/** Something in a response line that Flow's runtime would refuse. */
export interface ResponseIssue {
  kind: "unknown-field" | "null-field" | "field-type";
  /** Where, as `spec.oauth2.provider`. */
  path: string;
  message: string;
}

/**
 * Lists Flow's encoder leaves out when they are empty, as proto3's JSON mapping does for repeated
 * fields (and so does flowcap's runtime): `{"discovered":{}}` is a discovery of no bindings, and
 * `{"validated":{}}` the answer to a validate of none.
 */
const EMPTY_WHEN_ABSENT: Partial<Record<ResponseVariant, string[]>> = { discovered: ["bindings"], validated: ["bindings"] };

type Validator = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };
const validators = responseValidators as unknown as Record<ResponseVariant, Validator>;

/** What `inspectResponse` found in a response line. */
export interface ResponseInspection {
  variants: ResponseVariant[];
  unknownKeys: string[];
  issues: ResponseIssue[];
  /**
   * The response as Flow's decoder reads it: proto field names (`schema_json`, `doc_json`,
   * `merge_patch`) renamed to their JSON names (`documentSchema`, `doc`, `mergePatch`), unknown
   * fields left out.
   */
  normalized: Record<string, unknown>;
}

/**
 * Inspects a response as Flow's (strict) decoder would: which variants it holds, and every field
 * Flow does not know, every null, and every value of the wrong type. Like Flow's decoder, it takes
 * a field under its proto name as well as its JSON name (flow-protocol.md §3.2: the Estuary Python
 * CDK writes `sourcedSchema.schema_json`), but not under both at once. Used by the host harness to
 * check connectors that flowcap did not write.
 */
export function inspectResponse(value: Record<string, unknown>): ResponseInspection {
  const variants = RESPONSE_VARIANTS.filter((v) => v in value);
  const unknownKeys = Object.keys(value).filter((k) => !(RESPONSE_VARIANTS as string[]).includes(k) && k !== "$internal");
  const issues: ResponseIssue[] = [];
  const normalized: Record<string, unknown> = {};
  for (const variant of variants) {
    const body = normalize(shapeOf(responseVariants[variant]), value[variant], variant, issues);
    if (isPlainObject(body)) for (const field of EMPTY_WHEN_ABSENT[variant] ?? []) if (!(field in body)) body[field] = [];
    normalized[variant] = body;
    const validate = validators[variant];
    if (body !== null && !validate(body)) {
      for (const e of validate.errors ?? []) {
        let pointer = e.instancePath;
        let message = e.message ?? e.keyword;
        if (e.keyword === "required") {
          pointer += "/" + String((e.params as { missingProperty: string }).missingProperty);
          message = "is required";
        }
        const path = [variant, readablePath(pointer)].filter(Boolean).join(".").replace(/\.\[/g, "[");
        // A null is reported once, as a null.
        if (issues.some((i) => i.kind === "null-field" && i.path === path)) continue;
        issues.push({ kind: "field-type", path, message });
      }
    } else if (body === null) issues.push({ kind: "null-field", path: variant, message: "is null" });
  }
  return { variants, unknownKeys, issues, normalized };
}

const protoNameTables = new WeakMap<Shape, Map<string, FieldShape>>();

/** The field of an object shape written under `key`: its JSON name, or its proto name. */
function fieldNamed(shape: Extract<Shape, { kind: "object" }>, key: string): FieldShape | undefined {
  let byProtoName = protoNameTables.get(shape);
  if (!byProtoName) {
    byProtoName = new Map(shape.fields.map((f) => [f.protoName, f]));
    protoNameTables.set(shape, byProtoName);
  }
  return shape.byName.get(key) ?? byProtoName.get(key);
}

/** A copy of `value` with Flow's JSON names, recording unknown, repeated and null fields. Raw values are kept whole. */
function normalize(shape: Shape, value: unknown, path: string, issues: ResponseIssue[]): unknown {
  switch (shape.kind) {
    case "raw":
    case "scalar":
      return value;
    case "array":
      return Array.isArray(value) ? value.map((v, i) => normalize(shape.items, v, `${path}[${i}]`, issues)) : value;
    case "map":
      if (!isPlainObject(value)) return value;
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalize(shape.values, v, `${path}.${k}`, issues)]));
    case "object": {
      if (!isPlainObject(value)) return value;
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) {
        const field = fieldNamed(shape, k);
        if (!field) issues.push({ kind: "unknown-field", path: `${path}.${k}`, message: "is not a field Flow knows" });
        else if (field.name in out) issues.push({ kind: "unknown-field", path: `${path}.${k}`, message: `repeats ${field.name} under its other name (Flow refuses a field given twice)` });
        else if (v === null) {
          issues.push({ kind: "null-field", path: `${path}.${k}`, message: "is null" });
          out[field.name] = v;
        } else out[field.name] = normalize(field.shape, v, `${path}.${k}`, issues);
      }
      return out;
    }
  }
}
