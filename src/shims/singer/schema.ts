import { isPlainObject, type JsonObject } from "../../util/mergePatch.js";

/**
 * A Singer stream's JSON schema in the dialect Flow reads. Singer schemas are JSON Schema draft
 * 4 (singer-python validates with it): its boolean `exclusiveMaximum`/`exclusiveMinimum`, which
 * qualify `maximum`/`minimum`, are numbers of their own since draft 6 and Flow refuses the
 * booleans, so `{"maximum": 10, "exclusiveMaximum": true}` becomes `{"exclusiveMaximum": 10}`;
 * a draft 3 or 4 `$schema` is dropped. Everything else is kept. The input is not modified.
 */
export function modernSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(modernSchema);
  if (!isPlainObject(schema)) return schema;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(schema)) out[key] = modernSchema(value);
  for (const [exclusive, bound] of [
    ["exclusiveMaximum", "maximum"],
    ["exclusiveMinimum", "minimum"],
  ] as const) {
    if (typeof out[exclusive] !== "boolean") continue;
    if (out[exclusive] === true && typeof out[bound] === "number") {
      out[exclusive] = out[bound];
      delete out[bound];
    } else delete out[exclusive];
  }
  if (typeof out.$schema === "string" && /draft-0[34]\/schema/.test(out.$schema)) delete out.$schema;
  return out;
}
