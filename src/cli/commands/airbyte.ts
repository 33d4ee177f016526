import { statSync } from "node:fs";
import { serve } from "../../runtime/index.js";
import { childSource, createAirbyteConnector } from "../../shims/airbyte/index.js";
import { parseShimArgs } from "../shimArgs.js";

export const usage = `Usage: flowcap airbyte [options] -- <command> [args...]

Runs the Airbyte source started by <command> (any language: python3 main.py, node bin/main,
a binary) as a Flow capture connector on stdin/stdout. The source is invoked with the Airbyte
CLI convention: spec, check --config F, discover --config F, read --config F --catalog F
[--state F]. Logs go to stderr.

Options:
  --patches DIR              an airbyte-to-flow patch set (Estuary's Rust shim): spec.patch.json,
                             spec.map.json, oauth2.patch.json, documentation_url.patch.json,
                             schema_normalizations.json, selected_streams.json,
                             omitted_streams.json, run_interval_minutes.json and
                             streams/<name>.{pk,patch,normalize}.json (streams/*.patch.json or
                             streams/__star__.patch.json for every stream) apply as that shim
                             applied them; its state is picked up (AIRBYTE_TO_FLOW_STATE_FORMAT=
                             per_stream reads it as per-stream state, as that shim did)
  --oauth2 FILE              Flow's oauth2 object for the spec (JSON); by default it is derived
                             from the source's declarative OAuth when that is sound
  --documentation-url URL    the spec's documentationUrl (default: the source's)
  --env NAME=VALUE           a variable for the source's environment (repeatable)
  --clean-env                give the source only an allowlist of flowcap's environment instead
                             of all of it: PATH, HOME, locale, proxy, CA and LOG_LEVEL
                             variables, runtime ones (PYTHONPATH, PYTHONHOME, VIRTUAL_ENV,
                             JAVA_HOME, JAVA_OPTS, NODE_PATH, NODE_OPTIONS, LD_LIBRARY_PATH, ...),
                             AIRBYTE_* and --pass-env names; the names held back are logged at
                             debug level. Default: the source inherits the whole environment
  --pass-env NAME            with --clean-env, pass this variable too (repeatable)
  --cwd DIR                  the source's working directory
  --legacy-state FORM        how LEGACY state is handed back: blob (default) or message
  --no-decode-state          keep gzip+base64 (Faros) LEGACY state compressed in Flow's state
  --max-tracked-keys N       keys a keyed full-refresh stream tracks so that a complete refresh
                             deletes the rows it no longer has (default 500000); each costs its
                             JSON plus ~15 bytes of Flow state (a UUID ~57), and Flow refuses a
                             checkpoint over 64 MB
  --idle-timeout-ms N        how long the source may write nothing, on stdout or stderr, while
                             flowcap waits for it, before it is taken for hung and the capture
                             fails (default 10800000: 3 hours; 0 disables it)
  --kill-timeout-ms N        after SIGTERM, how long the source gets before SIGKILL (default 10000)
  -h, --help                 show this help
`;

/** `flowcap airbyte [options] -- <argv...>`: parse, build the connector, serve it. */
export async function run(argv: string[]): Promise<number> {
  const parsed = parseShimArgs(argv, { "legacy-state": { type: "string" }, "no-decode-state": { type: "boolean" }, patches: { type: "string" } }, { name: "airbyte", usage, wraps: "the source", example: "python3 main.py" });
  if (typeof parsed === "number") return parsed;
  const { values, command, common, fail } = parsed;
  const legacy = values["legacy-state"];
  if (legacy !== undefined && legacy !== "blob" && legacy !== "message") return fail(`--legacy-state is blob or message, got ${JSON.stringify(legacy)}`);
  if (values.patches !== undefined && !statSync(values.patches, { throwIfNoEntry: false })?.isDirectory()) return fail(`--patches ${values.patches} is not a folder (an airbyte-to-flow patch set)`);

  const source = childSource({ argv: command, env: common.env, cleanEnv: common.cleanEnv, inheritEnv: common.inheritEnv, cwd: common.cwd, killTimeoutMs: common.killTimeoutMs, idleTimeoutMs: common.idleTimeoutMs });
  const connector = createAirbyteConnector(source, {
    oauth2: common.oauth2,
    documentationUrl: common.documentationUrl,
    legacyStateForm: legacy as "blob" | "message" | undefined,
    decodeCompressedState: values["no-decode-state"] ? false : undefined,
    maxTrackedKeys: common.maxTrackedKeys,
    patches: values.patches,
    foreignStateFormat: process.env.AIRBYTE_TO_FLOW_STATE_FORMAT === "per_stream" ? "per_stream" : undefined,
  });
  return serve(connector);
}
