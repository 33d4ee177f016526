import { readFileSync } from "node:fs";
import { serve } from "../../runtime/index.js";
import { childTap, createSingerConnector, type CatalogArgument } from "../../shims/singer/index.js";
import { isPlainObject } from "../../util/mergePatch.js";
import { parseShimArgs } from "../shimArgs.js";

export const usage = `Usage: flowcap singer [options] -- <command> [args...]

Runs the Singer tap started by <command> (any language: tap-github, python3 tap.py, a binary)
as a Flow capture connector on stdin/stdout. The tap is invoked with the Singer CLI convention:
--config F --discover for discovery, --config F --catalog F [--state F] to sync (--properties F
for legacy taps). The endpoint config is handed to the tap unchanged. Logs go to stderr.

Options:
  --config-schema FILE       the tap's config schema (JSON), for taps that declare none; a file
                             of --about --format=json output works too (its settings are used).
                             Default: the tap's --about settings, else any JSON object
  --catalog FILE             a catalog to use instead of the tap's --discover (taps without
                             discovery mode)
  --properties               hand the sync its catalog as --properties F (legacy taps)
  --catalog-arg HOW          catalog, properties or none; default: detected from the tap's
                             --about capabilities, else from what its --help mentions
  --no-about                 do not run the tap with --about
  --sourced-schema           write each bound stream's SCHEMA as a closed sourcedSchema
  --max-tracked-keys N       keys a keyed full-table stream tracks for ACTIVATE_VERSION
                             deletions (default 500000); each costs its JSON plus ~15 bytes of
                             Flow state (a UUID ~57), and Flow refuses a checkpoint over 64 MB
  --oauth2 FILE              Flow's oauth2 object for the spec (JSON)
  --documentation-url URL    the spec's documentationUrl
  --env NAME=VALUE           a variable for the tap's environment (repeatable)
  --clean-env                give the tap only an allowlist of flowcap's environment instead
                             of all of it: PATH, HOME, locale, proxy, CA and LOG_LEVEL
                             variables, runtime ones (PYTHONPATH, PYTHONHOME, VIRTUAL_ENV,
                             JAVA_HOME, JAVA_OPTS, NODE_PATH, NODE_OPTIONS, LD_LIBRARY_PATH, ...),
                             TAP_*, SINGER_* and --pass-env names; the names held back are logged at
                             debug level. Default: the tap inherits the whole environment
  --pass-env NAME            with --clean-env, pass this variable too (repeatable)
  --cwd DIR                  the tap's working directory
  --idle-timeout-ms N        how long the tap may write nothing, on stdout or stderr, while
                             flowcap waits for it, before it is taken for hung and the capture
                             fails (default 10800000: 3 hours; 0 disables it)
  --kill-timeout-ms N        after SIGTERM, how long the tap gets before SIGKILL (default 10000)
  -h, --help                 show this help
`;

/** `flowcap singer [options] -- <argv...>`: parse, build the connector, serve it. */
export async function run(argv: string[]): Promise<number> {
  const options = {
    "config-schema": { type: "string" },
    catalog: { type: "string" },
    properties: { type: "boolean" },
    "catalog-arg": { type: "string" },
    "no-about": { type: "boolean" },
    "sourced-schema": { type: "boolean" },
  } as const;
  const parsed = parseShimArgs(argv, options, { name: "singer", usage, wraps: "the tap", example: "tap-github" });
  if (typeof parsed === "number") return parsed;
  const { values, command, common, fail } = parsed;

  let catalogArgument: CatalogArgument | undefined;
  const arg = values["catalog-arg"];
  if (arg !== undefined) {
    if (arg !== "catalog" && arg !== "properties" && arg !== "none") return fail(`--catalog-arg is catalog, properties or none, got ${JSON.stringify(arg)}`);
    if (values.properties && arg !== "properties") return fail("--properties and --catalog-arg disagree");
    catalogArgument = arg;
  } else if (values.properties) catalogArgument = "properties";

  let configSchema: Record<string, unknown> | undefined;
  if (values["config-schema"]) {
    const read = readJsonFile(values["config-schema"], "--config-schema");
    if (typeof read === "string") return fail(read);
    // The output of --about --format=json holds the schema as its settings.
    const schema = isPlainObject(read) && isPlainObject(read.settings) && (read.capabilities !== undefined || read.name !== undefined) ? { type: "object", ...read.settings } : read;
    if (!isPlainObject(schema)) return fail(`${values["config-schema"]} does not hold a JSON schema object`);
    configSchema = schema;
  }
  let catalog: unknown;
  if (values.catalog) {
    catalog = readJsonFile(values.catalog, "--catalog");
    if (typeof catalog === "string") return fail(catalog);
    if (!isPlainObject(catalog) || !Array.isArray(catalog.streams)) return fail(`${values.catalog} does not hold a Singer catalog (an object with a "streams" list)`);
  }

  const tap = childTap({ argv: command, env: common.env, cleanEnv: common.cleanEnv, inheritEnv: common.inheritEnv, cwd: common.cwd, killTimeoutMs: common.killTimeoutMs, idleTimeoutMs: common.idleTimeoutMs });
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
}

function readJsonFile(file: string, option: string): unknown {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as unknown;
  } catch (error) {
    return `cannot read ${option} ${file}: ${(error as Error).message}`;
  }
}

