import path from "node:path";
import { ConnectorProcess, type ResponseEvent } from "../../../src/host/index.js";
import { applyMergePatch } from "../../../src/util/mergePatch.js";
import { repoRoot } from "../../../test/helpers/fixtures.js";
import { startPostgres, type PostgresCluster } from "../../../test/helpers/postgres.js";

/**
 * Drives the built connector as Flow's runtime does (a black box on stdio, checked by the host
 * harness's ResponseChecker): spec, then open with the state so far; each checkpoint commits the
 * documents before it, reduces the state, and is acknowledged. Sessions can be stopped (stdin
 * closed) or SIGKILLed at chosen points, so tests can check that a resumed capture loses nothing.
 */

export const CONNECTOR = [process.execPath, path.join(repoRoot, "dist/connectors/source-postgres/main.js")];
export const INTERNAL_SPEC = { spec: { connectorType: "LOCAL", config: {} } };
export const CAPTURE_USER = { user: "flow_capture", password: "secret1234" };

/** A cluster set up as the connector's README says: capture user, watermarks table, publication. */
export async function startCluster(settings: Record<string, string | number> = {}, options: { tls?: boolean } = {}): Promise<PostgresCluster> {
  const pg = await startPostgres({ settings, tls: options.tls });
  await pg.sql(`CREATE USER flow_capture WITH PASSWORD 'secret1234' REPLICATION`);
  await pg.sql(`GRANT pg_read_all_data TO flow_capture`);
  await pg.sql(`CREATE SCHEMA test`);
  await pg.sql(`CREATE TABLE IF NOT EXISTS public.flow_watermarks (slot TEXT PRIMARY KEY, watermark TEXT)`);
  await pg.sql(`GRANT ALL PRIVILEGES ON TABLE public.flow_watermarks TO flow_capture`);
  return pg;
}

/** A publication holding the watermarks table and `tables`; each test uses its own. */
export async function createPublication(pg: PostgresCluster, name: string, tables: string[]): Promise<void> {
  await pg.sql(`CREATE PUBLICATION ${name} FOR TABLE public.flow_watermarks${tables.map((t) => ", " + t).join("")}`);
}

export function endpointConfig(pg: PostgresCluster, advanced: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
  return {
    address: `${pg.host}:${pg.port}`,
    user: CAPTURE_USER.user,
    database: "postgres",
    credentials: { auth_type: "UserPassword", password: CAPTURE_USER.password },
    advanced,
    ...extra,
  };
}

/** Runs one unary request (after the internal spec) and returns its answer, or the error log line. */
export async function unary(request: Record<string, unknown>): Promise<{ response?: Record<string, unknown>; error?: string; code: number | null }> {
  const proc = ConnectorProcess.start({ command: CONNECTOR, env: {}, cwd: repoRoot } as never, { logLevel: "warn" });
  await proc.send(INTERNAL_SPEC);
  await proc.send(request);
  proc.closeInput();
  const events: ResponseEvent[] = [];
  for (let e = await proc.next().catch(() => undefined); e; e = await proc.next().catch(() => undefined)) events.push(e);
  const status = await proc.exited;
  return { response: events[1]?.response as Record<string, unknown> | undefined, error: status.code === 0 ? undefined : proc.lastLog?.message, code: status.code };
}

export interface DiscoveredBindingLike {
  recommendedName: string;
  resourceConfig: Record<string, unknown>;
  documentSchema: Record<string, unknown>;
  key: string[];
}

export async function discover(config: Record<string, unknown>): Promise<DiscoveredBindingLike[]> {
  const { response, error } = await unary({ discover: { connectorType: "LOCAL", config } });
  if (!response) throw new Error(`discover failed: ${error}`);
  return (response.discovered as { bindings: DiscoveredBindingLike[] }).bindings;
}

/** A capture spec binding for a discovered binding. */
export function bindingOf(d: DiscoveredBindingLike, backfill = 0, resource: Record<string, unknown> = {}) {
  const resourceConfig = { ...d.resourceConfig, ...resource };
  const resourcePath = [String(resourceConfig.namespace), String(resourceConfig.stream)];
  const encoded = resourcePath.map((p) => encodeURIComponent(p)).join("%2F");
  return {
    resourceConfig,
    resourcePath,
    collection: { name: `acmeCo/${d.recommendedName}`, key: d.key, writeSchema: d.documentSchema, uuidPtr: "/_meta/uuid" },
    backfill,
    stateKey: backfill ? `${encoded}.v${backfill}` : encoded,
  };
}

export type Doc = Record<string, unknown> & { _meta: { op: string; source: Record<string, unknown>; before?: Record<string, unknown> } };

/** Documents reduced by key as the collections' schemas say: merge, deleted on op d. */
export class Reduced {
  readonly byBinding = new Map<number, Map<string, Record<string, unknown>>>();
  constructor(private readonly keys: string[][]) {}
  add(binding: number, doc: Doc): void {
    const table = this.byBinding.get(binding) ?? new Map<string, Record<string, unknown>>();
    this.byBinding.set(binding, table);
    const key = JSON.stringify(this.keys[binding]!.map((ptr) => pointer(doc, ptr)));
    if (doc._meta.op === "d") {
      table.delete(key);
      return;
    }
    const { _meta, ...columns } = doc;
    void _meta;
    table.set(key, { ...(table.get(key) ?? {}), ...columns });
  }
  /** The reduced rows of a binding, sorted by key. */
  rows(binding: number): Record<string, unknown>[] {
    const compare = (a: unknown[], b: unknown[]): number => {
      for (let i = 0; i < a.length; i++) {
        const x = a[i] as number | string;
        const y = b[i] as number | string;
        if (x !== y) return x < y ? -1 : 1;
      }
      return 0;
    };
    return [...(this.byBinding.get(binding)?.entries() ?? [])]
      .map(([k, v]) => [JSON.parse(k) as unknown[], v] as const)
      .sort(([a], [b]) => compare(a, b))
      .map(([, v]) => v);
  }
}

function pointer(doc: unknown, ptr: string): unknown {
  let at = doc;
  for (const part of ptr.split("/").slice(1)) at = (at as Record<string, unknown>)?.[part.replace(/~1/g, "/").replace(/~0/g, "~")];
  return at;
}

export interface SessionOptions {
  config: Record<string, unknown>;
  bindings: ReturnType<typeof bindingOf>[];
  state: Record<string, unknown>;
  reduced?: Reduced;
  /** Called after each committed checkpoint; return true to end the session (stdin closed). */
  until?: (s: SessionProgress) => boolean | Promise<boolean>;
  /** SIGKILL the connector at this point. */
  kill?: KillPoint;
  /** Called with each committed checkpoint's state, before it is acknowledged. */
  onCommit?: (state: Record<string, unknown>, checkpoint: Record<string, unknown>) => void | Promise<void>;
  /** Delay acknowledgements until this resolves (for checking the slot does not move meanwhile). */
  holdAcks?: () => Promise<void>;
  logLevel?: string;
  timeoutMs?: number;
  /** Called with each captured line's text, as written. */
  onLine?: (text: string) => void;
}

export interface KillPoint {
  /** After this many documents were read in the session (usually mid-sequence: a transaction not yet checkpointed). */
  afterDocuments?: number;
  /** After this many checkpoints were committed, before acknowledging the last. */
  beforeAckOf?: number;
}

export interface SessionProgress {
  documents: number;
  checkpoints: number;
  state: Record<string, unknown>;
  committed: Doc[];
}

export interface SessionResult extends SessionProgress {
  killed: boolean;
  logs: { level: string; message: string; fields?: Record<string, unknown> }[];
}

/** Runs one session; resolves with what was committed and the state after it. */
export async function runSession(options: SessionOptions): Promise<SessionResult> {
  const logs: SessionResult["logs"] = [];
  const proc = ConnectorProcess.start({ command: CONNECTOR, env: {}, cwd: repoRoot } as never, { logLevel: options.logLevel ?? "info", onLog: (l) => logs.push(l as never) });
  const progress: SessionProgress = { documents: 0, checkpoints: 0, state: options.state, committed: [] };
  let pending: { binding: number; doc: Doc }[] = [];
  let killed = false;
  // Past the timeout the connector is SIGKILLed, which counts as a kill (at an arbitrary point).
  const timer = setTimeout(() => {
    killed = true;
    proc.kill();
  }, options.timeoutMs ?? 120_000);
  try {
    await proc.send(INTERNAL_SPEC);
    await proc.send({
      open: {
        capture: { name: "acmeCo/source-postgres", connectorType: "LOCAL", config: options.config, bindings: options.bindings, intervalSeconds: 300 },
        version: "test",
        range: { keyBegin: 0, keyEnd: 0xffffffff, rClockBegin: 0, rClockEnd: 0xffffffff },
        state: options.state,
      },
    });
    let documentsRead = 0;
    for (;;) {
      const event = await proc.next();
      if (!event) break;
      if (event.variant === "captured") {
        options.onLine?.(event.text);
        const { binding = 0, doc } = event.response.captured!;
        pending.push({ binding, doc: doc as Doc });
        documentsRead++;
        if (options.kill?.afterDocuments !== undefined && documentsRead >= options.kill.afterDocuments) {
          proc.kill();
          killed = true;
          break;
        }
      } else if (event.variant === "checkpoint") {
        const update = event.response.checkpoint!.state;
        progress.state = (update.mergePatch ? applyMergePatch(progress.state, update.updated) : update.updated) as Record<string, unknown>;
        for (const p of pending) {
          options.reduced?.add(p.binding, p.doc);
          progress.committed.push(p.doc);
        }
        progress.documents += pending.length;
        pending = [];
        progress.checkpoints++;
        await options.onCommit?.(progress.state, update.updated as Record<string, unknown>);
        if (options.kill?.beforeAckOf !== undefined && progress.checkpoints >= options.kill.beforeAckOf) {
          proc.kill();
          killed = true;
          break;
        }
        if (options.holdAcks) await options.holdAcks();
        await proc.acknowledge(1);
        if (options.until && (await options.until(progress))) {
          proc.closeInput();
          // Keep reading what it writes while stopping; none of it is committed.
          while (await proc.next()) {}
          break;
        }
      }
    }
    const status = await proc.exited;
    if (!killed && status.code !== 0) throw new Error(`connector exited ${status.code}: ${JSON.stringify(logs.slice(-5))}`);
  } finally {
    clearTimeout(timer);
    proc.kill();
  }
  return { ...progress, killed, logs };
}
