import { loadCatalog, selectCapture, type Catalog, type CaptureDef } from "../host/index.js";
import { UsageError, type OptionSpec, type OptionValues } from "./args.js";

/** The options every catalog-driven command shares. */
export const catalogOptions = {
  source: { type: "string", value: "<flow.yaml>", description: "the Flow catalog to read" },
  capture: { type: "string", value: "<name>", description: "the capture to run (default: the catalog's only capture)" },
  name: { type: "string", value: "<name>", description: "the same as --capture (flowctl preview's name for it)" },
  "log-level": { type: "string", value: "<level>", description: "the connector's LOG_LEVEL (default: the capture's shards.logLevel, else info)" },
} satisfies Record<string, OptionSpec>;

/** Loads the catalog --source names and selects the capture --capture (or --name) names. */
export async function loadSelectedCapture(values: OptionValues<typeof catalogOptions>): Promise<{ catalog: Catalog; capture: CaptureDef }> {
  const { source, capture, name } = values;
  if (source === undefined) throw new UsageError("--source <flow.yaml> is required");
  const catalog = await loadCatalog(source);
  for (const warning of catalog.warnings) process.stderr.write(`flowcap: warning: ${warning}\n`);
  if (capture !== undefined && name !== undefined && capture !== name) throw new UsageError(`--capture ${capture} and --name ${name} name different captures: give one`);
  return { catalog, capture: selectCapture(catalog, capture ?? name) };
}
