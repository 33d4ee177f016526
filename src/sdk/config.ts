import type { Ajv, ErrorObject, ValidateFunction } from "ajv";
import { createSchemaCompiler } from "../protocol/index.js";
import { ConfigError, FlowcapError, type ConfigProblem } from "../util/errors.js";
import { readablePath } from "../util/jsonPointer.js";
import type { JsonSchema } from "./schema.js";

const compiled = new WeakMap<object, ValidateFunction>();

const newAjv = (discriminator: boolean) => createSchemaCompiler({ allErrors: true, useDefaults: true, discriminator });

/**
 * Compiles a user-facing schema (an endpoint or resource config). Uses ajv's `discriminator`
 * support for Flow's `oneOf` + `discriminator.propertyName` unions when the schema allows it,
 * for one clear error instead of one per branch.
 */
function compile(schema: JsonSchema): ValidateFunction {
  const key = typeof schema === "object" ? schema : { schema };
  let validate = compiled.get(key);
  if (validate) return validate;
  try {
    validate = compileWith(true, schema);
  } catch {
    try {
      validate = compileWith(false, schema);
    } catch (error) {
      throw new FlowcapError("INTERNAL", `the connector's schema does not compile: ${(error as Error).message}`, { cause: error });
    }
  }
  compiled.set(key, validate);
  return validate;
}

/** One ajv of each kind for every schema (making one, formats and all, costs more than most compiles). */
const shared = new Map<boolean, Ajv>();

/** Compiles with the shared ajv; in one of its own, a schema whose `$id` another one already took there. */
function compileWith(discriminator: boolean, schema: JsonSchema): ValidateFunction {
  let ajv = shared.get(discriminator);
  if (ajv === undefined) shared.set(discriminator, (ajv = newAjv(discriminator)));
  const id = typeof schema === "object" ? (schema as { $id?: unknown }).$id : undefined;
  if (typeof id === "string" && ajv.getSchema(id) !== undefined) return newAjv(discriminator).compile(schema as object);
  return ajv.compile(schema as object);
}

/**
 * Validates `value` against `schema`, filling in defaults, and returns it typed. A value that does
 * not fit throws a ConfigError listing each problem with its path, e.g.
 * `endpoint config: rate: must be > 0`.
 */
export function parseWithSchema<T>(schema: JsonSchema, value: unknown, subject: string, pathPrefix = ""): T {
  const copy = structuredClone(value ?? {});
  const validate = compile(schema);
  if (!validate(copy)) throw new ConfigError(problemsOf(validate.errors ?? [], pathPrefix), { subject });
  return copy as T;
}

/** Like parseWithSchema, but returns the problems instead of throwing. */
export function checkWithSchema(schema: JsonSchema, value: unknown, pathPrefix = ""): ConfigProblem[] {
  const validate = compile(schema);
  return validate(structuredClone(value ?? {})) ? [] : problemsOf(validate.errors ?? [], pathPrefix);
}

/**
 * Readable problems from ajv errors. Errors inside the branches of a failed `oneOf`/`anyOf` are
 * folded into one line for the union, since listing why every branch failed helps nobody.
 */
function problemsOf(errors: ErrorObject[], pathPrefix: string): ConfigProblem[] {
  const unions = errors.filter((e) => e.keyword === "oneOf" || e.keyword === "anyOf").map((e) => e.schemaPath);
  const problems: ConfigProblem[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    if (unions.some((u) => e.schemaPath !== u && e.schemaPath.startsWith(u + "/"))) continue;
    let pointer = e.instancePath;
    let message = e.message ?? e.keyword;
    switch (e.keyword) {
      case "required":
        pointer += "/" + (e.params as { missingProperty: string }).missingProperty;
        message = "is required";
        break;
      case "additionalProperties":
        pointer += "/" + (e.params as { additionalProperty: string }).additionalProperty;
        message = "is not a known property";
        break;
      case "enum":
        message = `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(", ")}`;
        break;
      case "const":
        message = `must be ${JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)}`;
        break;
      case "oneOf":
      case "anyOf":
        message = "does not match any of the allowed options";
        break;
    }
    const path = [pathPrefix, readablePath(pointer)].filter(Boolean).join(".").replace(/\.\[/g, "[");
    const k = `${path}\u0000${message}`;
    if (seen.has(k)) continue;
    seen.add(k);
    problems.push({ path, message });
  }
  return problems;
}
