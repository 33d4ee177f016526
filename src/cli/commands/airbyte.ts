import { statSync } from "node:fs";
import { serve } from "../../runtime/index.js";
import { childSource, createAirbyteConnector } from "../../shims/airbyte/index.js";
import { UsageError } from "../args.js";
import { defineCommand } from "../command.js";
import { shimOptions, shimOptionTable } from "../shimArgs.js";

const command = defineCommand(
  {
    name: "airbyte",
    summary: "run an Airbyte source as a Flow capture connector",
    usage: "flowcap airbyte [options] -- <command> [args...]",
    details: `Runs the Airbyte source started by <command> (any language: python3 main.py, node bin/main, a binary) as a Flow capture connector on stdin/stdout. The source is invoked with the Airbyte CLI convention: spec, check --config F, discover --config F, read --config F --catalog F [--state F]. Logs go to stderr.`,
    wraps: { what: "the source", example: "python3 main.py" },
    options: {
      patches: {
        type: "string",
        value: "DIR",
        description:
          "an airbyte-to-flow patch set (Estuary's Rust shim): spec.patch.json, spec.map.json, oauth2.patch.json, documentation_url.patch.json, schema_normalizations.json, selected_streams.json, omitted_streams.json, run_interval_minutes.json and streams/<name>.{pk,patch,normalize}.json (streams/*.patch.json or streams/__star__.patch.json for every stream) apply as that shim applied them; its state is picked up (AIRBYTE_TO_FLOW_STATE_FORMAT=per_stream reads it as per-stream state, as that shim did)",
      },
      ...shimOptionTable({ what: "the source", envPrefixes: "AIRBYTE_*", fullRefreshStream: "keyed full-refresh stream", deletes: "a complete refresh" }),
      oauth2: { type: "string", value: "FILE", description: "Flow's oauth2 object for the spec (JSON); by default it is derived from the source's declarative OAuth when that is sound" },
      "documentation-url": { type: "string", value: "URL", description: "the spec's documentationUrl (default: the source's)" },
      "legacy-state": { type: "string", value: "FORM", description: "how LEGACY state is handed back: blob (default) or message" },
      "no-decode-state": { type: "boolean", description: "keep gzip+base64 (Faros) LEGACY state compressed in Flow's state" },
    },
  },
  async ({ values, positionals }) => {
    const common = shimOptions(values);
    const legacy = values["legacy-state"];
    if (legacy !== undefined && legacy !== "blob" && legacy !== "message") throw new UsageError(`--legacy-state is blob or message, got ${JSON.stringify(legacy)}`);
    if (values.patches !== undefined && !statSync(values.patches, { throwIfNoEntry: false })?.isDirectory()) throw new UsageError(`--patches ${values.patches} is not a folder (an airbyte-to-flow patch set)`);

    const source = childSource({ argv: positionals, env: common.env, cleanEnv: common.cleanEnv, inheritEnv: common.inheritEnv, cwd: common.cwd, killTimeoutMs: common.killTimeoutMs, idleTimeoutMs: common.idleTimeoutMs });
    const connector = createAirbyteConnector(source, {
      oauth2: common.oauth2,
      documentationUrl: common.documentationUrl,
      legacyStateForm: legacy,
      decodeCompressedState: values["no-decode-state"] ? false : undefined,
      maxTrackedKeys: common.maxTrackedKeys,
      patches: values.patches,
      foreignStateFormat: process.env.AIRBYTE_TO_FLOW_STATE_FORMAT === "per_stream" ? "per_stream" : undefined,
    });
    return serve(connector);
  },
);

/** `flowcap airbyte [options] -- <argv...>`: parse, build the connector, serve it. */
export const run = command.run;
export const spec = command.spec;
