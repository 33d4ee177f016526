import type { OAuth2, ValidatedBinding } from "../../protocol/index.js";
import type { CaptureTask, Connector, ConnectorSpec, Logger, RequestContext } from "../../runtime/index.js";
import { emitConfigUpdate } from "../../sdk/index.js";
import { ConfigError, FlowcapError, type ConfigProblem } from "../../util/errors.js";
import { isPlainObject, type JsonObject } from "../../util/mergePatch.js";
import { sleep } from "../../util/abort.js";
import { checkEndpointConfig } from "../configCheck.js";
import { checkResourceConfig, configuredCatalog, resourcePathOf, shimBindings } from "./bindings.js";
import { discoveredBindings } from "./discover.js";
import { createDocumentNormalizer } from "./patchedDocuments.js";
import { patchedBindings, patchedSpec } from "./patches.js";
import { remapConfig, unmapConfig } from "./patchedSchema.js";
import { loadPatchSet, type AirbytePatchSet } from "./patchSet.js";
import { AirbyteReadSession } from "./session.js";
import type { AirbyteSource, AirbyteSourceContext } from "./source.js";
import { flowSpec } from "./spec.js";
import { AirbyteStateKeeper } from "./state.js";
import type { AirbyteConnectorSpecification, AirbyteStream } from "./types.js";

export interface AirbyteConnectorOptions {
  /** Flow's `oauth2` for the spec; when absent it is derived from the source's declarative OAuth, if sound. */
  oauth2?: OAuth2;
  /** Overrides the source's `documentationUrl`. */
  documentationUrl?: string;
  /** How LEGACY state is handed back: the blob itself (default) or `[{"type":"LEGACY","data":blob}]`. */
  legacyStateForm?: "blob" | "message";
  /** Decode Faros-style gzip+base64 LEGACY state into Flow's state (default true). */
  decodeCompressedState?: boolean;
  /** Where a changed config is encrypted (default `ENCRYPTION_URL`, else Estuary's service). */
  encryptionUrl?: string;
  /** Keys a keyed full-refresh stream tracks for its deletions (default 500,000: see DEFAULT_MAX_TRACKED_KEYS). */
  maxTrackedKeys?: number;
  /**
   * An airbyte-to-flow patch set (its folder, or one read with `loadPatchSet`): the spec, config,
   * discovered bindings, records and run interval follow Estuary's Rust shim, so a connector moved
   * off it runs unchanged (see patches.ts, patchedSchema.ts, patchedDocuments.ts).
   */
  patches?: string | AirbytePatchSet;
  /**
   * How state left in airbyte-to-flow's layout is handed back to the source, as that shim's
   * `AIRBYTE_TO_FLOW_STATE_FORMAT` said: `per_stream` makes its `{stream: state}` object a list of
   * STREAM states; otherwise it is the LEGACY blob it was (see AirbyteStateKeeper).
   */
  foreignStateFormat?: "legacy" | "per_stream";
}

/**
 * A Flow capture connector for an Airbyte source (`childSource` for any program following the
 * Airbyte CLI convention, `farosSource` for a faros-airbyte-cdk source in this process):
 *
 * - `spec`: see `flowSpec`. The source's spec is asked for once per process.
 * - `discover`: the source's catalog as bindings (see `discoveredBindings`).
 * - `validate`: runs the source's `check` (a failed check is the user's error, carrying the
 *   source's message), then its `discover`, and rejects every binding whose stream the source
 *   does not have (or whose sync mode it does not support), naming each.
 * - `open`: builds the configured catalog from the bindings alone (no discover) and runs one
 *   `read`, mapped by `AirbyteReadSession` (which also deletes the rows a complete full refresh
 *   no longer has); the session ends (and the process exits 0) when the
 *   read ends, and Flow starts the next one after the capture's interval.
 * - CONTROL connectorConfig messages, in any command, become Flow `configUpdate` events.
 *
 * With `patches` (an airbyte-to-flow patch set), each of these follows Estuary's Rust shim: the
 * patched spec (`patchedSpec`), the config remapped for the source, airbyte-to-flow's bindings
 * (`patchedBindings`), its record normalizations, and its run interval.
 */
export function createAirbyteConnector(source: AirbyteSource, options: AirbyteConnectorOptions = {}): Connector {
  let airbyteSpec: Promise<AirbyteConnectorSpecification> | undefined;
  let spec: Promise<ConnectorSpec> | undefined;
  let patchSet: Promise<AirbytePatchSet | undefined> | undefined;

  const getPatches = (log: Logger) => {
    const given = options.patches;
    patchSet ??= typeof given === "string" ? loadPatchSet(given, log) : Promise.resolve(given);
    patchSet.catch(() => (patchSet = undefined));
    return patchSet;
  };

  /** `config` is Flow's; the source gets it remapped by the patch set's spec.map.json, and hands back its own shape. */
  const context = (ctx: { log: Logger; signal: AbortSignal }, config: Record<string, unknown>, patches: AirbytePatchSet | undefined): AirbyteSourceContext => {
    let current = patches?.specMap ? remapConfig(config, patches.specMap) : config;
    return {
      log: ctx.log,
      signal: ctx.signal,
      onConfig: async (update) => {
        current = mergeConfig(current, update);
        const flowConfig = patches?.specMap ? unmapConfig(current, patches.specMap) : current;
        const schema = (await getSpec(ctx)).configSchema as Record<string, unknown>;
        await emitConfigUpdate(ctx.log, `the source ${source.label} updated its config`, flowConfig, schema, { encryptionUrl: options.encryptionUrl });
      },
    };
  };

  /**
   * Refuses a config that does not fit the spec's config schema (the source's
   * connectionSpecification, patched by `--patches`), with a readable error, before the source
   * sees it (as the Airbyte platform does). A specification that does not compile is not held
   * against the user: the config then goes to the source unchecked. Returns the config the source
   * gets (remapped by spec.map.json) and the patch set.
   */
  const checkConfig = async (config: Record<string, unknown>, ctx: { log: Logger; signal: AbortSignal }) => {
    checkEndpointConfig((await getSpec(ctx)).configSchema as Record<string, unknown>, config, ctx.log);
    const patches = await getPatches(ctx.log);
    return { patches, sourceConfig: patches?.specMap ? remapConfig(config, patches.specMap) : config };
  };

  const getSpec = (ctx: { log: Logger; signal: AbortSignal }) => {
    spec ??= Promise.all([getAirbyteSpec(ctx), getPatches(ctx.log)]).then(([s, patches]) => {
      const mapping = { oauth2: options.oauth2, documentationUrl: options.documentationUrl };
      return patches ? patchedSpec(s, patches, mapping, ctx.log) : flowSpec(s, mapping, ctx.log);
    });
    spec.catch(() => (spec = undefined));
    return spec;
  };

  const getAirbyteSpec = (ctx: { log: Logger; signal: AbortSignal }) => {
    airbyteSpec ??= source.spec({ log: ctx.log, signal: ctx.signal, onConfig: async () => ctx.log.warn("ignoring a CONTROL message during spec: there is no config yet") });
    airbyteSpec.catch(() => (airbyteSpec = undefined));
    return airbyteSpec;
  };

  return {
    spec(_request, ctx: RequestContext) {
      return getSpec(ctx);
    },

    async discover(request, ctx) {
      const { patches, sourceConfig } = await checkConfig(request.config, ctx);
      const catalog = await source.discover(sourceConfig, context(ctx, request.config, patches));
      return { bindings: patches ? patchedBindings(catalog, patches, ctx.log) : discoveredBindings(catalog, ctx.log) };
    },

    async validate(request, ctx) {
      const { patches, sourceConfig } = await checkConfig(request.config, ctx);
      const sctx = context(ctx, request.config, patches);
      const status = await source.check(sourceConfig, sctx);
      if (!isPlainObject(status) || status.status !== "SUCCEEDED") {
        const message = isPlainObject(status) && typeof status.message === "string" && status.message ? status.message : "the source did not say why";
        throw new ConfigError(message, { subject: "the source's connection check failed" });
      }
      const catalog = await source.discover(sourceConfig, sctx);
      const streams = isPlainObject(catalog) && Array.isArray(catalog.streams) ? catalog.streams.filter((s): s is AirbyteStream => isPlainObject(s) && typeof s.name === "string") : [];
      const problems: ConfigProblem[] = [];
      const bindings: ValidatedBinding[] = request.bindings.map((binding, i) => {
        const where = `bindings[${i}].resourceConfig`;
        const { config, problems: p } = checkResourceConfig(binding.resourceConfig, where);
        problems.push(...p);
        if (!config) return { resourcePath: [] };
        const sameName = streams.filter((s) => s.name === config.stream);
        const stream = sameName.find((s) => (s.namespace || undefined) === config.namespace) ?? (sameName.length === 1 && !config.namespace ? sameName[0] : undefined);
        if (!stream) {
          const known = streams.map((s) => JSON.stringify(s.namespace ? `${s.namespace}.${s.name}` : s.name)).join(", ") || "none";
          const name = config.namespace ? `${config.namespace}.${config.stream}` : config.stream;
          problems.push({ path: `${where}.stream`, message: `the source has no stream ${JSON.stringify(name)} (it has: ${known})` });
        } else if (Array.isArray(stream.supported_sync_modes) && stream.supported_sync_modes.length && !stream.supported_sync_modes.includes(config.syncMode)) {
          problems.push({ path: `${where}.syncMode`, message: `stream ${JSON.stringify(config.stream)} does not support ${config.syncMode} (it supports ${stream.supported_sync_modes.join(", ")})` });
        }
        return { resourcePath: resourcePathOf(config) };
      });
      if (problems.length) throw new ConfigError(problems, { subject: "bindings", code: "RESOURCE_NOT_FOUND" });
      return { bindings };
    },

    async open(request, ctx) {
      const config = request.capture.config;
      const { patches, sourceConfig } = await checkConfig(config, ctx);
      const bindings = shimBindings(request.capture.bindings);
      const catalog = configuredCatalog(bindings);
      const startedAt = Date.now();
      return {
        opened: {},
        async capture(task: CaptureTask) {
          const keeper = new AirbyteStateKeeper(
            request.state,
            bindings.map((b) => ({ ...b, withheld: b.snapshot })),
            task.log,
            { decodeCompressed: options.decodeCompressedState, legacyForm: options.legacyStateForm, foreignForm: options.foreignStateFormat },
          );
          const sctx = context({ log: task.log, signal: task.stopping }, config, patches);
          const session = new AirbyteReadSession(task, bindings, keeper, {
            label: source.label,
            onConfig: sctx.onConfig,
            maxTrackedKeys: options.maxTrackedKeys,
            // airbyte-to-flow normalizes every record of every binding (date-times, .normalize.json).
            normalizerOf: patches ? (b) => createDocumentNormalizer(b.writeSchema, patches.normalizations.get(b.stream)) : undefined,
          });
          const input = keeper.input();
          task.log.info(`reading ${bindings.length} stream(s) from ${source.label}`, { state: input?.kind ?? "none" });
          const outcome = await source.read(sourceConfig, catalog, input, { ...sctx, failureDetail: () => session.sourceError }, session);
          if (outcome === "stopped") {
            task.log.info("the read was stopped: what it sent after its last state is not committed", { records: session.records, states: session.states });
            return;
          }
          if (session.sourceError !== undefined) {
            throw new FlowcapError("SOURCE_FAILED", session.sourceError, { userFacing: true, data: { source: source.label } });
          }
          await session.complete();
          task.log.info(`the read is complete`, { records: session.records, states: session.states });
          if (patches?.runIntervalMinutes) await waitRunInterval(patches.runIntervalMinutes, startedAt, config, task);
        },
      };
    },
  };
}

/**
 * `run_interval_minutes.json`: airbyte-to-flow keeps a capture's process up until that many
 * minutes have passed since it started (its connectors exhaust their users' API rate limits when
 * Flow restarts them right away), unless the config sets `_atf_skip_interval: true`
 * (`connector_runner.rs`). Everything is committed before the wait; a stop (SIGTERM, stdin
 * closed) ends it at once.
 */
async function waitRunInterval(minutes: number, startedAt: number, config: Record<string, unknown>, task: CaptureTask): Promise<void> {
  if (config._atf_skip_interval === true) {
    task.log.info("not waiting out run_interval_minutes.json: the config sets _atf_skip_interval");
    return;
  }
  const remainingMs = startedAt + minutes * 60_000 - Date.now();
  if (remainingMs <= 0) return;
  task.log.info(`waiting ${Math.ceil(remainingMs / 1000)} s before exiting, so that reads start at most every ${minutes} minute(s) (run_interval_minutes.json)`);
  await sleep(remainingMs, task.stopping);
}

/**
 * The config after a CONTROL connectorConfig: objects merge recursively, anything else (arrays,
 * scalars, nulls) replaces. Sources send either their whole config or only what changed.
 */
export function mergeConfig(config: JsonObject, update: JsonObject): JsonObject {
  const out: JsonObject = { ...config };
  for (const [key, value] of Object.entries(update)) {
    out[key] = isPlainObject(value) && isPlainObject(out[key]) ? mergeConfig(out[key] as JsonObject, value) : value;
  }
  return out;
}
