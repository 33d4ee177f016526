import type { ErrorObject } from "ajv";
import { isPlainObject } from "../util/mergePatch.js";
import { readablePath } from "../util/jsonPointer.js";
import { RequestDecodeError } from "./errors.js";
import { requestVariants } from "./generated/schemas.js";
import * as requestValidators from "./generated/requestValidators.js";
import type { Request } from "./generated/types.js";
import { shapeOf, type Shape } from "./shapes.js";

/** The variant keys of a capture request. */
export type RequestVariant = keyof typeof requestVariants;
export const REQUEST_VARIANTS = Object.keys(requestVariants) as RequestVariant[];

type Validator = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };
const validators = requestValidators as unknown as Record<RequestVariant, Validator>;

/**
 * A request holding exactly one variant, with that variant's name alongside. Unknown keys,
 * `$internal` and nulls have been dropped, and missing fields hold their defaults.
 */
export type DecodedRequest = {
  [V in RequestVariant]: { variant: V } & { [K in V]-?: NonNullable<Request[K]> };
}[RequestVariant];

/**
 * Decodes one request line (without its newline). Liberal as Flow's own decoder is: unknown keys
 * and `$internal` are ignored at every level, proto field names (`config_json`) are accepted,
 * `null` means "absent", and missing fields take their defaults. Anything else (not JSON, not an
 * object, not exactly one known variant, a field of the wrong type) is a RequestDecodeError
 * naming the line and the problem.
 */
export function decodeRequest(text: string, lineNumber: number): DecodedRequest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new RequestDecodeError(lineNumber, `not valid JSON: ${jsonErrorWithoutInput((error as Error).message)}`);
  }
  if (!isPlainObject(value)) {
    throw new RequestDecodeError(lineNumber, `expected a JSON object, got ${describe(value)}`);
  }
  const present = REQUEST_VARIANTS.filter((v) => value[v] !== undefined && value[v] !== null);
  if (present.length !== 1) {
    const keys = Object.keys(value).filter((k) => k !== "$internal");
    const problem =
      present.length === 0
        ? `holds no known request (expected one of ${REQUEST_VARIANTS.join(", ")}; got ${keys.length ? keys.map((k) => JSON.stringify(k)).join(", ") : "no keys"})`
        : `holds ${present.length} requests (${present.join(", ")}); a request line must hold exactly one`;
    throw new RequestDecodeError(lineNumber, problem);
  }
  const variant = present[0]!;
  const body = prune(shapeOf(requestVariants[variant]), value[variant]);
  const validate = validators[variant];
  if (!validate(body)) {
    throw new RequestDecodeError(lineNumber, `invalid ${variant} request: ${formatAjvErrors(validate.errors, variant)}`, { variant });
  }
  return { variant, [variant]: body } as DecodedRequest;
}

/** Keeps only the fields the shape knows (renaming proto names), dropping nulls; raw values are kept whole. */
function prune(shape: Shape, value: unknown): unknown {
  switch (shape.kind) {
    case "raw":
    case "scalar":
      return value;
    case "array":
      return Array.isArray(value) ? value.map((v) => prune(shape.items, v)) : value;
    case "map": {
      if (!isPlainObject(value)) return value;
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) if (v !== null) out[k] = prune(shape.values, v);
      return out;
    }
    case "object": {
      if (!isPlainObject(value)) return value;
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) {
        const field = shape.byName.get(k);
        if (field && v !== null && v !== undefined) out[field.name] = prune(field.shape, v);
      }
      return out;
    }
  }
}

/** "capture.bindings[0].resourcePath: must be array; version: must be string" */
export function formatAjvErrors(errors: ErrorObject[] | null | undefined, root = ""): string {
  if (!errors?.length) return "invalid";
  const seen = new Set<string>();
  for (const e of errors) {
    let path = e.instancePath;
    let message = e.message ?? e.keyword;
    if (e.keyword === "required") {
      path += "/" + String((e.params as { missingProperty: string }).missingProperty);
      message = "is required";
    } else if (e.keyword === "additionalProperties") {
      path += "/" + String((e.params as { additionalProperty: string }).additionalProperty);
      message = "is not allowed here";
    } else if (e.keyword === "enum") {
      message += ": " + (e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(", ");
    }
    const where = [root, readablePath(path)].filter(Boolean).join(".");
    seen.add(where ? `${where}: ${message}` : message);
  }
  return [...seen].join("; ");
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return `a ${typeof value}`;
}

/**
 * V8 quotes the offending input in JSON.parse's message (`Unexpected token 'x', "{"key": x…" is
 * not valid JSON`). The input may be a config full of secrets that nobody has been able to
 * parse, let alone register for redaction, so that quote is cut.
 */
function jsonErrorWithoutInput(message: string): string {
  return message.replace(/, ".*"(\.\.\.)? is not valid JSON$/s, "");
}
