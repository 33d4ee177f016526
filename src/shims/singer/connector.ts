import type { OAuth2, ValidatedBinding } from "../../protocol/index.js";
import type { CaptureTask, Connector, ConnectorSpec, Logger } from "../../runtime/index.js";
import { emitConfigUpdate } from "../../sdk/index.js";
import { ConfigError, type ConfigProblem } from "../../util/errors.js";
import { isPlainObject } from "../../util/mergePatch.js";
import { checkEndpointConfig } from "../configCheck.js";
import { RESOURCE_CONFIG_SCHEMA, RESOURCE_PATH_POINTERS, checkResourceConfig, shimBindings } from "./bindings.js";
import { allowedMethods, catalogEntries, recordNames, syncCatalog, validReplicationKeys, type StreamSelection } from "./catalog.js";
import { discoveredBindings } from "./discover.js";
import { SingerSyncSession } from "./session.js";
import { SingerStateKeeper } from "./state.js";
import type { CatalogArgument, SingerTap, SingerTapContext } from "./tap.js";
import type { SingerAbout, SingerCatalogEntry } from "./types.js";

/** Used when neither the options nor the tap name a documentation page (Flow requires one). */
export const FALLBACK_DOCUMENTATION_URL = "https://github.com/singer-io/getting-started/blob/master/docs/SPEC.md";

export interface SingerConnectorOptions {
  /**
   * The tap's config schema, for taps that declare none (most taps outside the Meltano SDK).
   * Default: the `settings` of `--about --format=json`, else any JSON object.
   */
  configSchema?: Record<string, unknown>;
  /** A catalog to use instead of the tap's `--discover` (for taps without discovery mode). */
  catalog?: unknown;
  /**
   * How a sync is handed its catalog: `--catalog F`, the legacy `--properties F`, or not at all.
   * Default: detected from `--about` capabilities, else from what `--help` mentions, else `--catalog`.
   */
  catalogArgument?: CatalogArgument;
  /** Ask the tap for `--about --format=json` (default true). */
  about?: boolean;
  documentationUrl?: string;
  /** Flow's `oauth2` for the spec. */
  oauth2?: OAuth2;
  /** Emit each bound stream's SCHEMA as a closed `sourcedSchema` (default false). */
  sourcedSchemas?: boolean;
  /** Keys a full-table keyed stream tracks for ACTIVATE_VERSION deletions (default 500,000: see DEFAULT_MAX_TRACKED_KEYS). */
  maxTrackedKeys?: number;
  /** Where a config the tap rewrote is encrypted (default `ENCRYPTION_URL`, else Estuary's service). */
  encryptionUrl?: string;
  /** Where relative BATCH file paths are resolved (the tap's working directory). */
  cwd?: string;
}

/** The config schema of a tap that declares none: any JSON object, passed to the tap as it is. */
export function fallbackConfigSchema(label: string): Record<string, unknown> {
  return {
    $schema: "http://json-schema.org/draft-07/schema#",
    title: `${label} config`,
    description: "The Singer tap's config, handed to it unchanged. The tap declares no schema of its own: give one with --config-schema.",
    type: "object",
    additionalProperties: true,
  };
}

/**
 * A Flow capture connector for a Singer tap (`childTap` runs any tap program):
 *
 * - `spec`: `configSchema` is the one given, else the tap's `--about` settings, else any
 *   object; resources are `{stream, replication_method?, replication_key?}` with paths `[stream]`.
 * - `discover`: the tap's `--discover` catalog (or the one given) as bindings, one per
 *   `tap_stream_id` (see `discoveredBindings`).
 * - `validate`: runs discovery with the config (Singer has no check command: discovery is how a
 *   tap proves it can connect) and rejects every binding whose stream the tap does not have, or
 *   whose replication method or key the tap does not allow, naming each.
 * - `open`: runs discovery, marks exactly the bound streams selected, and runs one sync with the
 *   state kept from the last one, mapped by `SingerSyncSession`. The session ends (and the process
 *   exits 0) when the tap exits; Flow starts the next one after the capture's interval.
 * - A config the tap rewrites (Singer's way of rotating tokens) becomes a Flow `configUpdate` event.
 * - The endpoint config is checked against the config schema, when the tap has one, before the
 *   tap sees it; it is then handed to the tap unchanged.
 */
export function createSingerConnector(tap: SingerTap, options: SingerConnectorOptions = {}): Connector {
  let about: Promise<SingerAbout | undefined> | undefined;
  let argument: Promise<CatalogArgument> | undefined;
  let spec: Promise<ConnectorSpec> | undefined;

  const probeContext = (ctx: { log: Logger; signal: AbortSignal }): SingerTapContext => ({
    log: ctx.log,
    signal: ctx.signal,
    onConfig: async () => ctx.log.warn("the tap rewrote its config while answering a probe: ignored"),
  });

  const getAbout = (ctx: { log: Logger; signal: AbortSignal }) => {
    if (options.about === false) return Promise.resolve(undefined);
    about ??= tap.about(probeContext(ctx)).then((a) => {
      ctx.log.debug(a ? `the tap answers --about (capabilities: ${(a.capabilities ?? []).join(", ") || "none"})` : "the tap does not answer --about --format=json");
      return a;
    });
    about.catch(() => (about = undefined));
    return about;
  };

  /** The config schema the tap declares (or the options give); undefined when there is none. */
  const declaredSchema = async (ctx: { log: Logger; signal: AbortSignal }): Promise<Record<string, unknown> | undefined> => {
    if (options.configSchema) return options.configSchema;
    const settings = (await getAbout(ctx))?.settings;
    if (!isPlainObject(settings)) return undefined;
    return { type: "object", ...settings };
  };

  const configSchema = async (ctx: { log: Logger; signal: AbortSignal }) => (await declaredSchema(ctx)) ?? fallbackConfigSchema(tap.label);

  const checkConfig = async (config: Record<string, unknown>, ctx: { log: Logger; signal: AbortSignal }) => {
    const schema = await declaredSchema(ctx);
    if (schema) checkEndpointConfig(schema, config, ctx.log);
  };

  const context = (ctx: { log: Logger; signal: AbortSignal }): SingerTapContext => ({
    log: ctx.log,
    signal: ctx.signal,
    onConfig: async (config) => {
      await emitConfigUpdate(ctx.log, `the tap ${tap.label} updated its config`, config, await configSchema(ctx), { encryptionUrl: options.encryptionUrl });
    },
  });

  const catalog = async (config: Record<string, unknown>, ctx: { log: Logger; signal: AbortSignal }): Promise<SingerCatalogEntry[]> => {
    if (options.catalog !== undefined) return catalogEntries(options.catalog, ctx.log, "the given catalog");
    return catalogEntries(await tap.discover(config, context(ctx)), ctx.log);
  };

  const catalogArgument = (ctx: { log: Logger; signal: AbortSignal }): Promise<CatalogArgument> => {
    if (options.catalogArgument) return Promise.resolve(options.catalogArgument);
    argument ??= (async () => {
      const capabilities = (await getAbout(ctx))?.capabilities;
      if (Array.isArray(capabilities)) {
        if (capabilities.includes("catalog")) return "catalog";
        if (capabilities.includes("properties")) return "properties";
      }
      const help = await tap.help(probeContext(ctx));
      const detected: CatalogArgument | undefined = help === undefined ? undefined : declares(help, "catalog") ? "catalog" : declares(help, "properties") ? "properties" : declares(help, "config") ? "none" : undefined;
      ctx.log.info(`handing the catalog to the tap ${detected === "none" ? "not at all" : `as --${detected ?? "catalog"}`} (${detected ? "from what its --help says" : "the default: its --help says nothing about it"})`);
      return detected ?? "catalog";
    })();
    argument.catch(() => (argument = undefined));
    return argument;
  };

  return {
    spec(_request, ctx) {
      spec ??= (async (): Promise<ConnectorSpec> => ({
        configSchema: await configSchema(ctx),
        resourceConfigSchema: RESOURCE_CONFIG_SCHEMA,
        documentationUrl: options.documentationUrl ?? FALLBACK_DOCUMENTATION_URL,
        ...(options.oauth2 ? { oauth2: options.oauth2 } : {}),
        resourcePathPointers: RESOURCE_PATH_POINTERS,
      }))();
      spec.catch(() => (spec = undefined));
      return spec;
    },

    async discover(request, ctx) {
      await checkConfig(request.config, ctx);
      return { bindings: discoveredBindings(await catalog(request.config, ctx), ctx.log) };
    },

    async validate(request, ctx) {
      await checkConfig(request.config, ctx);
      const entries = await catalog(request.config, ctx);
      const byId = new Map(entries.map((e) => [e.tap_stream_id, e]));
      const problems: ConfigProblem[] = [];
      const bindings: ValidatedBinding[] = request.bindings.map((binding, i) => {
        const where = `bindings[${i}].resourceConfig`;
        const { config, problems: p } = checkResourceConfig(binding.resourceConfig, where);
        problems.push(...p);
        if (!config) return { resourcePath: [] };
        const entry = byId.get(config.stream);
        if (!entry) problems.push({ path: `${where}.stream`, message: unknownStream(config.stream, entries) });
        else {
          const allowed = allowedMethods(entry);
          if (config.replication_method && !allowed.includes(config.replication_method)) {
            problems.push({ path: `${where}.replication_method`, message: `the tap replicates stream ${JSON.stringify(config.stream)} by ${allowed.join(" or ")} only` });
          }
          const valid = validReplicationKeys(entry);
          if (config.replication_key && valid && !valid.includes(config.replication_key)) {
            problems.push({ path: `${where}.replication_key`, message: `${JSON.stringify(config.replication_key)} is not a replication key of stream ${JSON.stringify(config.stream)} (it has: ${valid.map((k) => JSON.stringify(k)).join(", ")})` });
          }
        }
        return { resourcePath: [config.stream] };
      });
      if (problems.length) throw new ConfigError(problems, { subject: "bindings", code: "RESOURCE_NOT_FOUND" });
      return { bindings };
    },

    async open(request, ctx) {
      const config = request.capture.config;
      await checkConfig(config, ctx);
      const bindings = shimBindings(request.capture.bindings);
      return {
        opened: {},
        async capture(task: CaptureTask) {
          const tctx = context({ log: task.log, signal: task.stopping });
          const entries = await catalog(config, { log: task.log, signal: task.stopping });
          const byId = new Map(entries.map((e) => [e.tap_stream_id, e]));
          const missing = bindings.filter((b) => !byId.has(b.stream));
          if (missing.length) {
            throw new ConfigError(
              missing.map((b) => ({ path: `bindings[${b.index}].resourceConfig.stream`, message: unknownStream(b.stream, entries) })),
              { subject: "bindings", code: "RESOURCE_NOT_FOUND" },
            );
          }
          const selection = new Map<string, StreamSelection>(bindings.map((b) => [b.stream, { replicationMethod: b.replication_method, replicationKey: b.replication_key }]));
          const arg = await catalogArgument({ log: task.log, signal: task.stopping });
          const named = bindings.map((b) => ({ ...b, names: recordNames(byId.get(b.stream)!).slice(1) }));
          const keeper = new SingerStateKeeper(request.state, named, task.log);
          const session = new SingerSyncSession(task, named, keeper, {
            label: tap.label,
            sourcedSchemas: options.sourcedSchemas,
            maxTrackedKeys: options.maxTrackedKeys,
            cwd: options.cwd,
          });
          const state = keeper.input();
          task.log.info(`syncing ${bindings.length} stream(s) of ${tap.label}`, { state: state === undefined ? "none" : "kept", catalogArgument: arg });
          const outcome = await tap.sync(config, { argument: arg, value: syncCatalog(entries, selection, { properties: arg === "properties" }) }, state, tctx, session);
          if (outcome === "stopped") {
            task.log.info("the sync was stopped: what the tap sent after its last state is not committed", { records: session.records, states: session.states });
            return;
          }
          await session.complete();
          task.log.info("the sync is complete", { records: session.records, states: session.states, deletions: session.deletions });
        },
      };
    },
  };
}

/**
 * True when a `--help` text declares the option `--<name>`: in a usage line (`[--catalog
 * CATALOG]`) or at the start of an option line (`  -p PROPERTIES, --properties PROPERTIES`), not
 * merely in prose (singer-python's help for --properties says "Please use --catalog instead").
 */
export function declares(help: string, name: string): boolean {
  return new RegExp(`\\[--${name}\\b|^\\s*(?:-[\\w-]+(?:[ =]\\S+)?,\\s*)*--${name}\\b`, "m").test(help);
}

function unknownStream(stream: string, entries: readonly SingerCatalogEntry[]): string {
  const byName = entries.find((e) => e.stream === stream);
  if (byName) return `the tap has no stream with tap_stream_id ${JSON.stringify(stream)}; its stream named so has tap_stream_id ${JSON.stringify(byName.tap_stream_id)}`;
  const known = entries.map((e) => JSON.stringify(e.tap_stream_id));
  return `the tap has no stream ${JSON.stringify(stream)} (it has: ${known.length > 20 ? `${known.slice(0, 20).join(", ")}, and ${known.length - 20} more` : known.join(", ") || "none"})`;
}
