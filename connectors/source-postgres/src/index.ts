import type pg from "pg";
import { ConfigError, FlowcapError, stateKey as computeStateKey, type Connector, type Logger } from "flowcap";
import type { CaptureBinding as FlowBinding, CollectionSpec } from "flowcap/protocol";
import { connect } from "./api/connection.js";
import { Capture, type CaptureBinding } from "./capture.js";
import { discoverTables, discoveredBindings, FALLBACK_KEY, listTables, type TableId } from "./discovery.js";
import { configSchema, parseConfig, parseResource, parseState, resourceConfigSchema, streamId, type Config } from "./models.js";
import { checkPrerequisites, checkTablePrerequisites, PrerequisitesError } from "./prerequisites.js";

/**
 * source-postgres: change data capture from PostgreSQL by logical replication, compatible with
 * Estuary's connector of the same name (config, discovery, documents and state).
 */

async function withClient<T>(config: Config, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = await connect(config);
  try {
    return await run(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/** The database-wide and per-table prerequisites, unless the feature flags skip them. */
async function prerequisites(client: pg.Client, config: Config, tables: TableId[], extra: string[] = []): Promise<void> {
  const problems = [...extra];
  if (!config.flags.skipPrerequisites) {
    problems.push(...(await checkPrerequisites(client, config)));
    if (!config.flags.skipTablePrerequisites) problems.push(...(await checkTablePrerequisites(client, config, tables)));
  }
  if (problems.length) throw new PrerequisitesError(problems);
}

const isFallbackKey = (key: readonly string[]) => key.length === FALLBACK_KEY.length && key.every((k, i) => k === FALLBACK_KEY[i]);

/** Estuary includes `_meta.source.txid` when the collection projects it (collections built from its schema do). */
function includesTxid(collection: CollectionSpec): boolean {
  const projections = collection.projections;
  return projections === undefined || projections.length === 0 || projections.some((p) => p.ptr === "/_meta/source/txid");
}

function log(ctx: { log: Logger }): Logger {
  return ctx.log;
}

export const connector: Connector = {
  spec() {
    return {
      configSchema: configSchema as unknown as Record<string, unknown>,
      resourceConfigSchema: resourceConfigSchema as unknown as Record<string, unknown>,
      documentationUrl: process.env.DOCS_URL || "https://go.estuary.dev/source-postgresql",
      resourcePathPointers: ["/namespace", "/stream"],
    };
  },

  async discover(request) {
    const config = parseConfig(request.config);
    return withClient(config, async (client) => {
      const tables = await discoverTables(client, await listTables(client, config));
      return { bindings: discoveredBindings(tables, config) };
    });
  },

  async validate(request) {
    const config = parseConfig(request.config);
    const resources = request.bindings.map((b, i) => parseResource(b.resourceConfig, `bindings[${i}].resourceConfig`));
    const problems: string[] = [];
    const last = new Map((request.lastCapture?.bindings ?? []).map((b) => [JSON.stringify(b.resourcePath), b]));
    request.bindings.forEach((binding, i) => {
      const resource = resources[i]!;
      const id = streamId(resource.namespace, resource.stream);
      if ((resource.mode === "" || resource.mode === "Normal" || resource.mode === "Precise") && isFallbackKey(binding.collection.key)) {
        problems.push(`output collection for stream ${JSON.stringify(id)} has the fallback key, which can't be used for a backfill`);
      }
      const previous = last.get(JSON.stringify([resource.namespace, resource.stream]));
      if (previous && (previous.backfill ?? 0) === (binding.backfill ?? 0)) {
        const before = parseResource(previous.resourceConfig, "lastCapture");
        if (before.mode !== resource.mode) problems.push(`must re-backfill when changing backfill mode: table ${JSON.stringify(id)} changed from ${JSON.stringify(before.mode)} to ${JSON.stringify(resource.mode)}`);
        if (resource.backfillFilter && before.backfillFilter !== resource.backfillFilter) problems.push(`must re-backfill when changing the backfill filter: table ${JSON.stringify(id)} changed from ${JSON.stringify(before.backfillFilter)} to ${JSON.stringify(resource.backfillFilter)}`);
      }
    });
    let client: pg.Client;
    try {
      client = await connect(config);
    } catch (error) {
      throw new PrerequisitesError([...problems, (error as Error).message]);
    }
    try {
      await prerequisites(client, config, resources.map((r) => ({ schema: r.namespace, table: r.stream })), problems);
    } finally {
      await client.end().catch(() => {});
    }
    return { bindings: resources.map((r) => ({ resourcePath: [r.namespace, r.stream] })) };
  },

  async apply(request) {
    const config = parseConfig(request.capture.config);
    const resources = request.capture.bindings.map((b, i) => parseResource(b.resourceConfig, `bindings[${i}].resourceConfig`));
    await withClient(config, async (client) => {
      const found = await discoverTables(client, resources.map((r) => ({ schema: r.namespace, table: r.stream })));
      const missing = resources.filter((r) => !found.has(streamId(r.namespace, r.stream)));
      if (missing.length) throw new ConfigError(missing.map((r) => ({ path: "", message: `could not find or access table ${JSON.stringify(`${r.namespace}.${r.stream}`)}` })), { subject: "apply" });
    });
    return { actionDescription: "" };
  },

  async open(request, ctx) {
    const config = parseConfig(request.capture.config);
    const state = parseState(request.state);
    const flowBindings: FlowBinding[] = request.capture.bindings;
    const bindings: CaptureBinding[] = flowBindings.map((b, index) => {
      const resource = parseResource(b.resourceConfig, `bindings[${index}].resourceConfig`);
      return {
        index,
        stateKey: b.stateKey || computeStateKey(b.resourcePath, b.backfill),
        resource,
        streamId: streamId(resource.namespace, resource.stream),
        collectionKey: b.collection.key,
        includeTxid: includesTxid(b.collection),
      };
    });
    const ids = new Set<string>();
    for (const b of bindings) {
      if (ids.has(b.streamId)) throw new ConfigError(`table ${JSON.stringify(b.streamId)} is bound more than once`, { subject: "capture" });
      ids.add(b.streamId);
    }
    const client = await connect(config);
    try {
      const tableIds = bindings.map((b) => ({ schema: b.resource.namespace, table: b.resource.stream }));
      await prerequisites(client, config, tableIds);
      const tables = await discoverTables(client, tableIds);
      return {
        opened: { explicitAcknowledgements: true },
        async capture(task) {
          try {
            await new Capture(task, config, client, bindings, tables, state, log(ctx).child({})).run();
          } finally {
            await client.end().catch(() => {});
          }
        },
      };
    } catch (error) {
      await client.end().catch(() => {});
      if (error instanceof FlowcapError) throw error;
      throw new FlowcapError("CAPTURE_FAILED", `opening the capture failed: ${(error as Error).message}`, { cause: error });
    }
  },
};
