import { readFileSync } from "node:fs";
import { serve } from "../../runtime/index.js";
import { childTap, createSingerConnector, type CatalogArgument } from "../../shims/singer/index.js";
import { isPlainObject } from "../../util/mergePatch.js";
import { UsageError } from "../args.js";
import { defineCommand } from "../command.js";
import { shimOptions, shimOptionTable } from "../shimArgs.js";

const command = defineCommand(
  {
    name: "singer",
    summary: "run a Singer tap as a Flow capture connector",
    usage: "flowcap singer [options] -- <command> [args...]",
    details: `Runs the Singer tap started by <command> (any language: tap-github, python3 tap.py, a binary) as a Flow capture connector on stdin/stdout. The tap is invoked with the Singer CLI convention: --config F --discover for discovery, --config F --catalog F [--state F] to sync (--properties F for legacy taps). The endpoint config is handed to the tap unchanged. Logs go to stderr.`,
    wraps: { what: "the tap", example: "tap-github" },
    options: {
      "config-schema": {
        type: "string",
        value: "FILE",
        description: "the tap's config schema (JSON), for taps that declare none; a file of --about --format=json output works too (its settings are used). Default: the tap's --about settings, else any JSON object",
      },
      catalog: { type: "string", value: "FILE", description: "a catalog to use instead of the tap's --discover (taps without discovery mode)" },
      properties: { type: "boolean", description: "hand the sync its catalog as --properties F (legacy taps)" },
      "catalog-arg": { type: "string", value: "HOW", description: "catalog, properties or none; default: detected from the tap's --about capabilities, else from what its --help mentions" },
      "no-about": { type: "boolean", description: "do not run the tap with --about" },
      "sourced-schema": { type: "boolean", description: "write each bound stream's SCHEMA as a closed sourcedSchema" },
      ...shimOptionTable({ what: "the tap", envPrefixes: "TAP_*, SINGER_*", fullRefreshStream: "keyed full-table stream", deletes: "ACTIVATE_VERSION" }),
    },
  },
  async ({ values, positionals }) => {
    const common = shimOptions(values);
    let catalogArgument: CatalogArgument | undefined;
    const arg = values["catalog-arg"];
    if (arg !== undefined) {
      if (arg !== "catalog" && arg !== "properties" && arg !== "none") throw new UsageError(`--catalog-arg is catalog, properties or none, got ${JSON.stringify(arg)}`);
      if (values.properties && arg !== "properties") throw new UsageError("--properties and --catalog-arg disagree");
      catalogArgument = arg;
    } else if (values.properties) catalogArgument = "properties";

    let configSchema: Record<string, unknown> | undefined;
    if (values["config-schema"]) {
      const read = readJsonFile(values["config-schema"], "--config-schema");
      // The output of --about --format=json holds the schema as its settings.
      const schema = isPlainObject(read) && isPlainObject(read.settings) && (read.capabilities !== undefined || read.name !== undefined) ? { type: "object", ...read.settings } : read;
      if (!isPlainObject(schema)) throw new UsageError(`${values["config-schema"]} does not hold a JSON schema object`);
      configSchema = schema;
    }
    let catalog: unknown;
    if (values.catalog) {
      catalog = readJsonFile(values.catalog, "--catalog");
      if (!isPlainObject(catalog) || !Array.isArray(catalog.streams)) throw new UsageError(`${values.catalog} does not hold a Singer catalog (an object with a "streams" list)`);
    }

    const tap = childTap({ argv: positionals, env: common.env, cleanEnv: common.cleanEnv, inheritEnv: common.inheritEnv, cwd: common.cwd, killTimeoutMs: common.killTimeoutMs, idleTimeoutMs: common.idleTimeoutMs });
    const connector = createSingerConnector(tap, {
      configSchema,
      catalog,
      catalogArgument,
      about: values["no-about"] ? false : undefined,
      sourcedSchemas: values["sourced-schema"] === true,
      maxTrackedKeys: common.maxTrackedKeys,
      oauth2: common.oauth2,
      documentationUrl: common.documentationUrl,
      cwd: common.cwd,
    });
    return serve(connector);
  },
);

/** `flowcap singer [options] -- <argv...>`: parse, build the connector, serve it. */
export const run = command.run;
export const spec = command.spec;

function readJsonFile(file: string, option: string): unknown {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as unknown;
  } catch (error) {
    throw new UsageError(`cannot read ${option} ${file}: ${(error as Error).message}`);
  }
}

