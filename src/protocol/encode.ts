import type { ErrorObject } from "ajv";
import { FlowcapError } from "../util/errors.js";
import { isPlainObject } from "../util/mergePatch.js";
import { formatAjvErrors } from "./decode.js";
import { responseVariants } from "./generated/schemas.js";
import * as responseValidators from "./generated/responseValidators.js";
import type { ConnectorState, Response } from "./generated/types.js";
import { shapeOf, type Shape } from "./shapes.js";

/** The protocol version a connector must report in its `spec` response. */
export const PROTOCOL_VERSION = 3032023 as const;

export type ResponseVariant = keyof typeof responseVariants;
export const RESPONSE_VARIANTS = Object.keys(responseVariants) as ResponseVariant[];

type Validator = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };
const validators = responseValidators as unknown as Record<ResponseVariant, Validator>;

export interface EncodeOptions {
  /**
   * Write `discovered.bindings[].isFallbackKey`. Older Flow runtimes reject it as an unknown
   * field, so it is dropped unless the connector targets a runtime that knows it.
   */
  emitIsFallbackKey?: boolean;
  /** Called with the path of each field that Flow does not know and that was therefore dropped. */
  onUnknownField?: (path: string) => void;
}

/**
 * Encodes one response as a line of Flow's JSON codec, newline included. Only the fields Flow
 * knows are written, in Flow's order; defaults (0, false, "", empty lists) and nulls are
 * omitted, since Flow's decoder rejects unknown fields and nulls. The response is checked
 * against its schema first: a connector that builds a wrong response gets a RESPONSE_INVALID
 * error naming the field, instead of a runtime failure far away.
 */
export function encodeResponse(response: Response, options: EncodeOptions = {}): string {
  const present = RESPONSE_VARIANTS.filter((v) => response[v] !== undefined && response[v] !== null);
  if (present.length !== 1) {
    throw new FlowcapError("RESPONSE_INVALID", `a response must hold exactly one of ${RESPONSE_VARIANTS.join(", ")}; got ${present.length ? present.join(", ") : "none"}`);
  }
  const variant = present[0]!;
  // Check what Flow knows of the response (defaults included: an empty list is a valid list),
  // then write it in Flow's field order without the defaults, as Flow's own encoder does.
  const shape = shapeOf(responseVariants[variant]);
  const known = forEmit(shape, response[variant], variant, false, { ...options, omitDefaults: false });
  const validate = validators[variant];
  if (!validate(known)) {
    throw new FlowcapError("RESPONSE_INVALID", `the connector built an invalid ${variant} response: ${formatAjvErrors(validate.errors, variant)}`);
  }
  const body = forEmit(shape, known, variant, false, { ...options, onUnknownField: undefined, omitDefaults: true });
  return `{"${variant}":${JSON.stringify(body)}}\n`;
}

/**
 * A copy of `value` holding only the fields the shape knows, in the shape's order, without nulls
 * and (where `omitDefault`) without default values. Raw values are kept as they are.
 */
function forEmit(shape: Shape, value: unknown, path: string, isField: boolean, options: EncodeOptions & { omitDefaults: boolean }): unknown {
  if (value === undefined || value === null) return undefined;
  const omitDefault = isField && options.omitDefaults;
  switch (shape.kind) {
    case "raw":
      return value;
    case "scalar":
      return omitDefault && (value === 0 || value === false || value === "") ? undefined : value;
    case "array": {
      if (!Array.isArray(value)) return value;
      if (omitDefault && value.length === 0) return undefined;
      return value.map((v, i) => forEmit(shape.items, v, `${path}[${i}]`, false, options) ?? null);
    }
    case "map": {
      if (!isPlainObject(value)) return value;
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) {
        const kept = forEmit(shape.values, v, `${path}.${k}`, false, options);
        if (kept !== undefined) out[k] = kept;
      }
      return omitDefault && Object.keys(out).length === 0 ? undefined : out;
    }
    case "object": {
      if (!isPlainObject(value)) return value;
      const out: Record<string, unknown> = {};
      for (const field of shape.fields) {
        if (field.optIn && !(options as unknown as Record<string, unknown>)[field.optIn]) continue;
        const kept = forEmit(field.shape, value[field.name], `${path}.${field.name}`, true, options);
        if (kept !== undefined) out[field.name] = kept;
      }
      if (options.onUnknownField) {
        for (const key of Object.keys(value)) {
          if (!shape.byName.has(key) && value[key] !== undefined) options.onUnknownField(`${path}.${key}`);
        }
      }
      return out;
    }
  }
}

// The record path. These bypass the generic encoder: a `captured` line is a fixed prefix per
// binding, the document serialized once, and a fixed suffix. A test checks they write exactly
// what encodeResponse writes.

const prefixes: string[] = [];

/** `{"captured":{"binding":N,"doc":` (the binding is omitted when 0, as Flow's encoder does). */
export function capturedPrefix(binding: number): string {
  let prefix = prefixes[binding];
  if (prefix === undefined) {
    if (!Number.isInteger(binding) || binding < 0 || binding > 0xffffffff) {
      throw new FlowcapError("RESPONSE_INVALID", `captured: binding must be an index from 0 to 4294967295, got ${binding}`);
    }
    prefix = binding === 0 ? `{"captured":{"doc":` : `{"captured":{"binding":${binding},"doc":`;
    if (binding < 4096) prefixes[binding] = prefix;
  }
  return prefix;
}

/** Suffix closing a `captured` line. */
export const CAPTURED_SUFFIX = "}}\n";

/** The JSON of a `captured` document (which must be an object), for writers that add the prefix and suffix themselves. */
export function capturedDocJson(doc: object): string {
  if (!isPlainObject(doc)) throw new FlowcapError("RESPONSE_INVALID", `captured: a document must be a JSON object, got ${Array.isArray(doc) ? "an array" : typeof doc}`);
  return JSON.stringify(doc);
}

/** Encodes a `checkpoint` line. `updated` is always written, so Flow always sees `state.updated`. */
export function encodeCheckpoint(state: ConnectorState): string {
  if (!isPlainObject(state.updated)) {
    throw new FlowcapError("RESPONSE_INVALID", `checkpoint: state.updated must be a JSON object, got ${state.updated === null ? "null" : typeof state.updated}`);
  }
  return `{"checkpoint":{"state":{"updated":${JSON.stringify(state.updated)}${state.mergePatch ? `,"mergePatch":true` : ""}}}}\n`;
}

/** Encodes a `sourcedSchema` line. */
export function encodeSourcedSchema(binding: number, documentSchema: object | boolean): string {
  capturedPrefix(binding); // validates the index
  return binding === 0
    ? `{"sourcedSchema":{"documentSchema":${JSON.stringify(documentSchema)}}}\n`
    : `{"sourcedSchema":{"binding":${binding},"documentSchema":${JSON.stringify(documentSchema)}}}\n`;
}
