import path from "node:path";
import {
  discoverRequest,
  loadCatalog,
  reduceState,
  runDiscover,
  runPreview,
  runSpec,
  selectCapture,
  type BindingDef,
  type CaptureDef,
  type Catalog,
  type CollectionDef,
  type ConnectorLauncher,
  type OpsLog,
  type PreviewResult,
} from "../host/index.js";
import type { ConnectorState, DiscoveredBinding, SpecResponse } from "../protocol/index.js";
import type { Connector } from "../runtime/index.js";
import { FlowcapError } from "../util/errors.js";
import { collectSecrets } from "../util/redact.js";
import { inProcessLauncher } from "./inProcess.js";
import { matchSnapshot, type MatchSnapshotOptions } from "./snapshots.js";

/**
 * The connector a harness drives: a Connector object, run in this process, or a Flow catalog
 * (`test.flow.yaml`) whose capture's local command is spawned, as `flowctl` and Flow run it.
 */
export type ConnectorUnderTest = Connector | { source: string; capture?: string };

/** Options of createConnectorHarness. */
export interface HarnessOptions {
  /** The endpoint config of an in-process connector (a catalog's capture has its own). */
  config?: Record<string, unknown>;
  /** LOG_LEVEL of the connector; default `info`. */
  logLevel?: string;
  /** Every log line the connector writes. */
  onLog?: (log: OpsLog) => void;
  /** The prefix of the collections an in-process connector's bindings capture into; default `acmeCo`. */
  prefix?: string;
}

/** A binding to capture: a resource name, or a resource config (with `name`) and a backfill counter. */
export type HarnessBinding = string | { resource: Record<string, unknown> & { name: string }; backfill?: number };

/** Options of a harness's capture(). */
export interface HarnessCaptureOptions {
  /**
   * The bindings to capture. In-process: by default every discovered binding that is not
   * disabled, into `<prefix>/<recommendedName>`; a resource config given here is merged over the
   * discovered one. From a catalog: by default its enabled bindings; named ones are picked (and
   * their resource config and backfill counter overridden) by the resource's `name`.
   */
  bindings?: HarnessBinding[];
  /** The state the session opens with (a previous result's `state` resumes it). */
  state?: Record<string, unknown>;
  /** Stop the session after this many transactions. Default: run until the connector exits (or `timeoutMs`). */
  transactions?: number;
  /**
   * Fold the checkpoints written in this long into one transaction, as Flow does under load.
   * Default 0: each checkpoint is its own transaction (whatever the machine's speed).
   */
  delayMs?: number;
  /**
   * End the session (gracefully) once the connector has sent nothing for this long, as
   * `flowctl preview --timeout` does (the clock restarts after each transaction).
   */
  timeoutMs?: number;
  /**
   * Ends the session (gracefully, as Flow does) once this holds, checked after each committed
   * transaction: wait on what the connector did rather than on time.
   */
  until?: (progress: HarnessCaptureProgress) => boolean;
  /** Ends the session (gracefully) when it fires. */
  signal?: AbortSignal;
}

/** What a session committed so far. */
export interface HarnessCaptureProgress {
  /** The documents committed so far, as HarnessCaptureResult.documents. */
  documents: readonly [collection: string, doc: Record<string, unknown>][];
  /** The state after the last committed transaction. */
  state: Record<string, unknown>;
  /** Transactions committed so far. */
  transactions: number;
}

/** What a harness's capture() committed. */
export interface HarnessCaptureResult {
  /** The committed documents as `flowctl preview` prints them: `[collection, doc]`, keys sorted, `_meta.uuid` a placeholder. */
  documents: [collection: string, doc: Record<string, unknown>][];
  /** The connector state after the last committed transaction. */
  state: Record<string, unknown>;
  /** Each transaction's state update, as Flow's runtime would apply it. */
  states: ConnectorState[];
  /** Transactions committed. */
  transactions: number;
  /** Checkpoints the connector wrote (several may make one transaction). */
  checkpoints: number;
  /** How the session ended: the connector exited, `transactions` or `until` was reached, a timeout, or a stop. */
  ended: PreviewResult["ended"];
}

/**
 * Drives one connector the way Flow does (every line it writes checked against the protocol,
 * every document against its collection's schema and key), for tests.
 */
export interface ConnectorHarness {
  /** The spec, as `flowctl raw spec` prints it. */
  spec(): Promise<SpecResponse>;
  /** The discovered bindings, as `flowctl raw discover --emit-raw` prints them (one per line). */
  discover(): Promise<DiscoveredBinding[]>;
  /** Validates, applies and opens one capture session, and returns what it committed. */
  capture(options?: HarnessCaptureOptions): Promise<HarnessCaptureResult>;
  /** The values of the config's secret fields (by the spec's schema), which snapshots redact. */
  secrets(): Promise<string[]>;
  /** Compares `value` with the snapshot `file`, secrets redacted (see matchSnapshot). */
  matchSnapshot(file: string | URL, value: unknown, options?: Omit<MatchSnapshotOptions, "secrets">): Promise<void>;
}

/**
 * A harness for a connector under test. In-process runs use the host's own machinery (the
 * same checks, state folding and transactions as `flowcap preview`) over serve() on in-memory
 * pipes; catalog runs spawn the capture's command.
 *
 * ```ts
 * const harness = createConnectorHarness(connector, { config: { token: "t" } });
 * await harness.matchSnapshot("snapshots/spec.json", [await harness.spec()]);
 * const first = await harness.capture({ transactions: 2 });
 * const next = await harness.capture({ transactions: 1, state: first.state });
 * ```
 */
export function createConnectorHarness(target: ConnectorUnderTest, options: HarnessOptions = {}): ConnectorHarness {
  const launch = isConnector(target) ? inProcessLauncher(target) : undefined;
  const runOptions = { logLevel: options.logLevel, onLog: options.onLog, launch };
  let loaded: Promise<{ catalog: Catalog; capture: CaptureDef }> | undefined;
  const load = () => (loaded ??= isConnector(target) ? Promise.resolve(inProcessCatalog(options.config ?? {})) : loadSourceCatalog(target));
  let specOnce: Promise<SpecResponse> | undefined;
  const spec = async () => runSpec((await load()).capture, runOptions);
  const discover = async () => {
    const { capture } = await load();
    return (await runDiscover(capture, discoverRequest(capture), runOptions)).bindings ?? [];
  };
  const secrets = async () => {
    const { capture } = await load();
    const s = await (specOnce ??= spec());
    return collectSecrets(s.configSchema, capture.endpoint.config);
  };

  return {
    spec,
    discover,
    secrets,
    async matchSnapshot(file, value, snapshotOptions = {}) {
      await matchSnapshot(file, value, { ...snapshotOptions, secrets: await secrets() });
    },
    async capture(captureOptions = {}) {
      const { catalog, capture } = await load();
      const run = isConnector(target)
        ? await inProcessBindings(catalog, capture, await discover(), captureOptions.bindings, options.prefix ?? "acmeCo")
        : { catalog, capture: pickBindings(capture, captureOptions.bindings) };
      return await previewSession(run.catalog, run.capture, captureOptions, options, launch);
    },
  };
}

function isConnector(target: ConnectorUnderTest): target is Connector {
  return typeof (target as Connector).open === "function";
}

async function loadSourceCatalog(target: { source: string; capture?: string }) {
  const catalog = await loadCatalog(path.resolve(target.source));
  return { catalog, capture: selectCapture(catalog, target.capture) };
}

const IN_PROCESS = "(in-process)";

function inProcessCatalog(config: Record<string, unknown>): { catalog: Catalog; capture: CaptureDef } {
  const capture: CaptureDef = {
    name: "acmeCo/source-under-test",
    file: IN_PROCESS,
    endpoint: { kind: "local", command: [IN_PROCESS], config, env: {}, cwd: process.cwd(), protobuf: false },
    bindings: [],
    intervalSeconds: 300,
  };
  return { catalog: { source: IN_PROCESS, files: [], captures: new Map([[capture.name, capture]]), collections: new Map(), warnings: [] }, capture };
}

/** The capture with bindings for the requested (or every enabled discovered) resource, and their collections. */
async function inProcessBindings(base: Catalog, capture: CaptureDef, discovered: DiscoveredBinding[], requested: HarnessBinding[] | undefined, prefix: string) {
  const byName = new Map(discovered.map((b) => [String(b.resourceConfig.name ?? b.recommendedName), b]));
  const wanted = requested ?? discovered.filter((b) => !b.disable).map((b) => String(b.resourceConfig.name ?? b.recommendedName));
  const collections = new Map<string, CollectionDef>();
  const bindings: BindingDef[] = wanted.map((entry) => {
    const name = typeof entry === "string" ? entry : entry.resource.name;
    const found = byName.get(name);
    if (!found) throw new FlowcapError("CATALOG_INVALID", `the connector discovered no resource named ${JSON.stringify(name)} (it has: ${[...byName.keys()].join(", ") || "none"})`, { userFacing: true });
    const target = `${prefix}/${found.recommendedName}`;
    collections.set(target, { name: target, file: IN_PROCESS, key: [...(found.key ?? [])], writeSchema: found.documentSchema as Record<string, unknown> });
    return {
      resource: { ...found.resourceConfig, ...(typeof entry === "string" ? {} : entry.resource) },
      target,
      disable: false,
      backfill: typeof entry === "string" ? 0 : (entry.backfill ?? 0),
    };
  });
  const run: CaptureDef = { ...capture, bindings };
  return { catalog: { ...base, captures: new Map([[run.name, run]]), collections }, capture: run };
}

function pickBindings(capture: CaptureDef, requested: HarnessBinding[] | undefined): CaptureDef {
  if (!requested) return capture;
  const bindings = requested.map((entry) => {
    const name = typeof entry === "string" ? entry : entry.resource.name;
    const found = capture.bindings.find((b) => b.resource.name === name);
    if (!found) throw new FlowcapError("CATALOG_INVALID", `capture ${capture.name} has no binding of resource ${JSON.stringify(name)}`, { userFacing: true });
    return typeof entry === "string" ? { ...found, disable: false } : { ...found, disable: false, resource: { ...found.resource, ...entry.resource }, backfill: entry.backfill ?? found.backfill };
  });
  return { ...capture, bindings };
}

async function previewSession(catalog: Catalog, capture: CaptureDef, options: HarnessCaptureOptions, harness: HarnessOptions, launch: ConnectorLauncher | undefined): Promise<HarnessCaptureResult> {
  const documents: [string, Record<string, unknown>][] = [];
  const states: ConnectorState[] = [];
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (options.signal?.aborted) stop.abort();
  let state = options.state ?? {};
  const result = await runPreview(catalog, capture, {
    sessions: [options.transactions ?? -1],
    delayMs: options.delayMs,
    // One checkpoint per transaction unless a delay folds them: the same transactions on any machine.
    checkpointsPerTransaction: options.delayMs ? undefined : 1,
    timeoutMs: options.timeoutMs,
    initialState: options.state,
    outputState: true,
    logLevel: harness.logLevel,
    signal: stop.signal,
    launch,
    reporter: {
      document: (collection, doc) => void documents.push([collection, doc]),
      state: (update, final) => {
        if (final) return;
        states.push(update);
        state = reduceState(state, update);
        if (options.until?.({ documents, state, transactions: states.length })) stop.abort();
      },
      log: (log) => harness.onLog?.(log),
    },
  }).finally(() => options.signal?.removeEventListener("abort", onAbort));
  return { documents, state: result.state, states, transactions: result.stats.transactions, checkpoints: result.stats.checkpoints, ended: result.ended };
}
