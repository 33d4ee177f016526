import type { ErrorObject } from "ajv";
import { isPlainObject } from "../util/mergePatch.js";
import { readablePath } from "../util/jsonPointer.js";
import { responseVariants } from "./generated/schemas.js";
import * as responseValidators from "./generated/responseValidators.js";
import { RESPONSE_VARIANTS, type ResponseVariant } from "./encode.js";
import { shapeOf, type Shape } from "./shapes.js";

/** Something in a response line that Flow's runtime would refuse. */
export interface ResponseIssue {
  kind: "unknown-field" | "null-field" | "field-type";
  /** Where, as `spec.oauth2.provider`. */
  path: string;
  message: string;
}

type Validator = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };
const validators = responseValidators as unknown as Record<ResponseVariant, Validator>;

/**
 * Inspects a response as Flow's (strict) decoder would: which variants it holds, and every field
 * Flow does not know, every null, and every value of the wrong type. Used by the host harness to
 * check connectors that flowcap did not write.
 */
export function inspectResponse(value: Record<string, unknown>): { variants: ResponseVariant[]; unknownKeys: string[]; issues: ResponseIssue[] } {
  const variants = RESPONSE_VARIANTS.filter((v) => v in value);
  const unknownKeys = Object.keys(value).filter((k) => !(RESPONSE_VARIANTS as string[]).includes(k) && k !== "$internal");
  const issues: ResponseIssue[] = [];
  for (const variant of variants) {
    const body = value[variant];
    walk(shapeOf(responseVariants[variant]), body, variant, issues);
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
  return { variants, unknownKeys, issues };
}

function walk(shape: Shape, value: unknown, path: string, issues: ResponseIssue[]): void {
  switch (shape.kind) {
    case "raw":
    case "scalar":
      return;
    case "array":
      if (Array.isArray(value)) value.forEach((v, i) => walk(shape.items, v, `${path}[${i}]`, issues));
      return;
    case "map":
      if (isPlainObject(value)) for (const [k, v] of Object.entries(value)) walk(shape.values, v, `${path}.${k}`, issues);
      return;
    case "object":
      if (!isPlainObject(value)) return;
      for (const [k, v] of Object.entries(value)) {
        const field = shape.byName.get(k);
        if (!field) issues.push({ kind: "unknown-field", path: `${path}.${k}`, message: "is not a field Flow knows" });
        else if (v === null) issues.push({ kind: "null-field", path: `${path}.${k}`, message: "is null" });
        else walk(field.shape, v, `${path}.${k}`, issues);
      }
  }
}
