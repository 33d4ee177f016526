import type { Logger } from "../runtime/index.js";
import { checkWithSchema } from "../sdk/index.js";
import { ConfigError, type ConfigProblem } from "../util/errors.js";

const lenient = new WeakMap<object, Record<string, unknown>>();

/**
 * The schema to check configs with: without `$schema`, since many specs name draft 07 by its
 * https URI, which the validator knows only as http (the keywords are the same).
 */
function lenientSchema(schema: Record<string, unknown>): Record<string, unknown> {
  let out = lenient.get(schema);
  if (!out) {
    const { $schema: _ignored, ...rest } = schema;
    out = rest;
    lenient.set(schema, out);
  }
  return out;
}

/**
 * Refuses an endpoint config that does not fit the wrapped source's own config schema, with a
 * readable error (`endpoint config: count: is required`), before the source sees it. A schema
 * that does not compile is not held against the user: the config then goes to the source
 * unchecked, and a debug line says so.
 */
export function checkEndpointConfig(schema: Record<string, unknown>, config: Record<string, unknown>, log: Logger): void {
  let problems: ConfigProblem[];
  try {
    problems = checkWithSchema(lenientSchema(schema), config);
  } catch (error) {
    log.debug("the source's config schema does not compile: the config is passed on unchecked", { error: String(error) });
    return;
  }
  if (problems.length) throw new ConfigError(problems, { subject: "endpoint config" });
}
