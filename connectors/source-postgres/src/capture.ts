import type pg from "pg";
import { FlowcapError, type CaptureTask, type Logger } from "flowcap";
import { decodeMessage, type Begin, type Change, type Relation } from "./api/pgoutput.js";
import { ReplicationStream, type XLogData } from "./api/replication.js";
import { scanChunk, type DocumentSink } from "./backfill.js";
import { collectionSchema, FALLBACK_KEY, type TableInfo } from "./discovery.js";
import { columnTranscoder, RowShape } from "./documents.js";
import { compareKeys, encodeKey, keyKind, type KeyKind } from "./keys.js";
import { formatLsn, parseLsn, type Lsn } from "./lsn.js";
import { streamId, type Config, type PersistentState, type ResourceConfig, type TableState } from "./models.js";

/**
 * The capture (Estuary's `sqlcapture/capture.go` `Capture.Run` with `replication.go`'s
 * `StreamToFence`): catch up on the replication stream, activate new bindings, then alternate
 * backfill chunks with streaming to a fence, or stream for a minute at a time once nothing is
 * backfilling. A backfill chunk and every change up to the fence written after it are one Flow
 * transaction; in steady streaming each PostgreSQL commit is one. Acknowledged checkpoints, and
 * only those, move the slot's confirmed position.
 */

/** How long steady streaming runs before a fence (Estuary's `StreamingFenceInterval`). */
export const STREAMING_FENCE_MS = 60_000;
/**
 * While streaming, a transaction that has buffered this many bytes of documents is split by a
 * checkpoint that keeps the cursor at the previous commit: after a crash the whole transaction
 * is read again (at-least-once), and Flow's transactions and the spool stay bounded.
 */
export const SPLIT_TRANSACTION_BYTES = 32 * 1024 * 1024;

/**
 * A backfill chunk is written through as it is read; past this many bytes not yet written out,
 * reading pauses until they are down to the low-water mark, so a slow reader of stdout sets the
 * pace and memory stays small (a third of a 50,000-row chunk's sequence here), and the spool's
 * blocks are reused. Measured (BENCHMARKS.md): 1 MiB / 256 KiB ties the connector to its reader
 * too tightly on a loaded machine (each waits for the other to be scheduled), and 32 MiB spends
 * CPU on fresh memory; 4 MiB / 2 MiB and 8 MiB / 4 MiB were the fastest.
 */
const BACKFILL_HIGH_WATER_BYTES = 4 * 1024 * 1024;
const BACKFILL_LOW_WATER_BYTES = 2 * 1024 * 1024;

/** The backfill's documents go to the task (written through: see Capture.run), one object for the session. */
class TaskDocuments implements DocumentSink {
  constructor(private readonly task: CaptureTask) {}
  document(binding: number, bytes: Buffer, end: number): void {
    this.task.capturedBytes(binding, bytes, 0, end);
  }
  backpressure(): Promise<void> | undefined {
    return this.task.unwrittenBytes > BACKFILL_HIGH_WATER_BYTES ? this.task.writable(BACKFILL_LOW_WATER_BYTES) : undefined;
  }
}

export interface CaptureBinding {
  index: number;
  stateKey: string;
  resource: ResourceConfig;
  streamId: string;
  collectionKey: string[];
  includeTxid: boolean;
}

const BACKFILLING = new Set(["Backfill", "UnfilteredBackfill", "KeylessBackfill"]);
const ACTIVE = new Set(["Backfill", "UnfilteredBackfill", "KeylessBackfill", "Active"]);

interface TableProcessing {
  binding: CaptureBinding;
  relation: Relation;
  shape: RowShape;
  keyIndexes: number[];
  keyKinds: KeyKind[];
  schemaJson: string;
  tableJson: string;
}

export class Capture {
  private readonly dirty = new Set<string>();
  private readonly byStream = new Map<string, CaptureBinding>();
  private readonly relations = new Map<number, Relation>();
  private readonly processing = new Map<number, TableProcessing | null>();
  private readonly scannedKeys = new Map<string, Buffer | null>();
  private stream: ReplicationStream | undefined;
  private txn: Begin | undefined;
  private lastTxnEnd: Lsn = 0;
  private changesSinceCommit = 0;
  private discarded = 0;
  private lastStatus = "";
  private readonly tagJson: string;
  private readonly backfillDocuments: TaskDocuments;

  constructor(
    private readonly task: CaptureTask,
    private readonly config: Config,
    private readonly client: pg.Client,
    private readonly bindings: CaptureBinding[],
    private readonly tables: Map<string, TableInfo>,
    private readonly state: PersistentState,
    private readonly log: Logger,
  ) {
    for (const b of bindings) this.byStream.set(b.streamId, b);
    this.backfillDocuments = new TaskDocuments(task);
    this.tagJson = config.sourceTag ? `,"tag":${JSON.stringify(config.sourceTag)}` : "";
  }

  async run(): Promise<void> {
    try {
      if (this.config.flags.emitSourcedSchemas) {
        for (const b of this.bindings) {
          const table = this.tables.get(b.streamId);
          if (table) this.task.sourcedSchema(b.index, collectionSchema(table, this.config, false).schema);
        }
      }
      await this.emitState();
      this.reconcile();
      await this.emitState();
      await this.startReplication();

      this.status("Catching up on CDC history");
      if (!(await this.streamToFence(0, true))) return;
      this.activatePending();
      while (!this.task.stopping.aborted) {
        if (this.bindings.some((b) => BACKFILLING.has(this.tableState(b).mode))) {
          this.status("Backfilling Tables");
          // A chunk and the changes up to its fence are one sequence, made in a moment: written
          // as it is made (Flow reads it meanwhile) rather than held until its checkpoint. Once
          // begun it goes on to its checkpoint even when told to stop, since a sequence cut
          // short ends the session with an error.
          await this.task.writeThrough(async () => {
            await this.backfillOne();
            await this.streamToFence(0, false, false);
            await this.emitState();
          });
          continue;
        }
        this.status("Streaming CDC Events");
        if (!(await this.streamToFence(STREAMING_FENCE_MS, true))) return;
      }
    } finally {
      await this.stream?.close();
    }
  }

  private status(message: string): void {
    const backfilling = this.bindings.filter((b) => BACKFILLING.has(this.tableState(b).mode)).length;
    const text = backfilling ? `${message} (${backfilling} tables backfilling)` : message;
    if (text !== this.lastStatus) this.log.event.status(text);
    this.lastStatus = text;
  }

  private tableState(b: CaptureBinding): TableState {
    return this.state.bindingStateV1[b.stateKey]!;
  }

  private setTableState(key: string, state: TableState): void {
    this.state.bindingStateV1[key] = state;
    this.dirty.add(key);
    this.scannedKeys.delete(key);
  }

  /** New bindings become Pending, removed ones Ignore; with no binding carried over, replication starts afresh. */
  private reconcile(): void {
    let allNew = true;
    for (const b of this.bindings) {
      const existing = this.state.bindingStateV1[b.stateKey];
      if (existing && existing.mode !== "Ignore") {
        allNew = false;
        continue;
      }
      this.log.info("binding added to capture", { stateKey: b.stateKey });
      this.setTableState(b.stateKey, { mode: "Pending", key_columns: null, scanned: null, backfilled: 0 });
    }
    const bound = new Set(this.bindings.map((b) => b.stateKey));
    for (const [key, state] of Object.entries(this.state.bindingStateV1)) {
      if (state.mode !== "Ignore" && !bound.has(key)) {
        this.log.info("binding removed from capture", { stateKey: key });
        this.setTableState(key, { mode: "Ignore", key_columns: null, scanned: null, metadata: null, backfilled: 0 });
      }
    }
    if (allNew) {
      this.log.info(this.bindings.length ? "all bindings are new, resetting replication cursor" : "capture has no bindings, resetting replication cursor");
      this.state.cursor = null;
    }
  }

  private async serverLsn(): Promise<Lsn> {
    const row = (await this.client.query<{ lsn: string }>(`SELECT (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_flush_lsn() END)::text AS lsn`)).rows[0]!;
    return parseLsn(row.lsn);
  }

  private async startReplication(): Promise<void> {
    const { config, log } = this;
    this.stream = await ReplicationStream.connect(config, log);
    let startLsn: Lsn;
    if (this.state.cursor) {
      startLsn = parseLsn(this.state.cursor);
      const flushLsn = await this.serverLsn();
      if (startLsn > flushLsn) log.warn("resume cursor mismatch: resume LSN is greater than server flush LSN", { resumeLSN: this.state.cursor, flushLSN: formatLsn(flushLsn) });
    } else {
      if (config.flags.createReplicationSlot) await this.stream.recreateSlot();
      startLsn = await this.serverLsn();
    }
    const slot = (
      await this.client.query<{ active: boolean; wal_status: string | null; confirmed: string | null }>(
        `SELECT active, wal_status, confirmed_flush_lsn::text AS confirmed FROM pg_catalog.pg_replication_slots WHERE slot_name = $1`,
        [config.slotName],
      )
    ).rows[0];
    if (!slot) log.warn("replication slot has no metadata (and probably doesn't exist?)", { slot: config.slotName });
    else if (slot.active) log.warn("replication slot is already active (is another capture already running against this database?)", { slot: config.slotName });
    else if (slot.wal_status === "lost") log.warn("replication slot was invalidated by the server, it must be deleted and all bindings backfilled", { slot: config.slotName });
    else if (slot.confirmed === null) log.warn("replication slot has no confirmed_flush_lsn (and is likely still being created but blocked on a long-running transaction)", { slot: config.slotName });
    else if (startLsn < parseLsn(slot.confirmed)) {
      log.warn("resume cursor mismatch: resume LSN is less than replication slot confirmed_flush_lsn (this means the slot was probably deleted+recreated and all bindings need to be backfilled)", { slot: config.slotName, confirmedLSN: slot.confirmed, startLSN: formatLsn(startLsn) });
    }
    await this.stream.start(startLsn);
    this.lastTxnEnd = startLsn;
  }

  /** Pending bindings start their backfill (or go Active), as Estuary's `activatePendingStreams`. */
  private activatePending(): void {
    for (const b of this.bindings) {
      const state = this.tableState(b);
      if (state.mode !== "Pending") continue;
      const table = this.tables.get(b.streamId);
      if (!table) throw new FlowcapError("CAPTURE_FAILED", `stream ${JSON.stringify(b.streamId)} is a configured binding of this capture, but doesn't exist or isn't visible with current permissions`, { userFacing: true });
      let keyColumns: string[] | null = null;
      if (!(b.collectionKey.length === FALLBACK_KEY.length && b.collectionKey.every((k, i) => k === FALLBACK_KEY[i]))) {
        keyColumns = b.collectionKey.map((ptr) => ptr.slice(1).replace(/~1/g, "/").replace(/~0/g, "~"));
      }
      if (b.resource.primaryKey) keyColumns = b.resource.primaryKey;
      let mode: TableState["mode"];
      switch (b.resource.mode) {
        case "":
          mode = table.unpredictableKeyOrdering || b.resource.backfillFilter ? "UnfilteredBackfill" : "Backfill";
          break;
        case "Precise":
          mode = "Backfill";
          break;
        case "Normal":
          mode = "UnfilteredBackfill";
          break;
        case "Without Primary Key":
          mode = "KeylessBackfill";
          keyColumns = null;
          break;
        case "Only Changes":
          mode = "Active";
          break;
      }
      if ((mode === "Backfill" || mode === "UnfilteredBackfill") && !keyColumns?.length) {
        throw new FlowcapError("CAPTURE_FAILED", `table ${JSON.stringify(b.streamId)} has no key to backfill by: set the binding's backfill mode to "Without Primary Key"`, { userFacing: true });
      }
      this.log.info("activating replication for stream", { stream: b.streamId, mode, priority: b.resource.priority });
      if (BACKFILLING.has(mode)) this.log.info("backfill triggered", { observable: true, stream: b.streamId, mode: b.resource.mode });
      this.setTableState(b.stateKey, { ...state, mode, key_columns: keyColumns, scanned: null });
    }
    for (const b of this.bindings) {
      const state = this.tableState(b);
      if (BACKFILLING.has(state.mode) && !this.shouldBackfill(b)) {
        this.log.info("skipping backfill for stream", { stream: b.streamId });
        this.setTableState(b.stateKey, { ...state, mode: "Active", scanned: null });
      }
    }
    this.processing.clear();
  }

  private shouldBackfill(b: CaptureBinding): boolean {
    const skip = this.config.skipBackfills;
    return !(skip.includes("*.*") || skip.includes(b.streamId));
  }

  /** One chunk of one table: the highest priority band first, a random table within it. */
  private async backfillOne(): Promise<void> {
    const backfilling = this.bindings.filter((b) => BACKFILLING.has(this.tableState(b).mode));
    const top = Math.max(...backfilling.map((b) => b.resource.priority));
    const band = backfilling.filter((b) => b.resource.priority === top);
    const b = band[Math.floor(Math.random() * band.length)]!;
    const table = this.tables.get(b.streamId)!;
    const state = this.tableState(b);
    const started = Date.now();
    const result = await scanChunk(this.client, { table, state, chunkSize: this.config.backfillChunkSize, filter: b.resource.backfillFilter }, this.config.sourceTag, b.index, this.backfillDocuments);
    this.log.info("processed backfill rows", { stream: b.streamId, rows: result.rows, duration: `${Date.now() - started}ms` });
    const next: TableState = { ...state, backfilled: state.backfilled + result.rows, scanned: result.scanned };
    if (result.complete) {
      this.log.info("backfill completed", { stream: b.streamId });
      next.mode = "Active";
      next.scanned = null;
    }
    this.setTableState(b.stateKey, next);
  }

  /** Checkpoints the cursor and every table state changed since the last checkpoint, and waits until it is written. */
  private async emitState(): Promise<void> {
    const updated: Record<string, unknown> = { cursor: this.state.cursor };
    if (this.dirty.size) {
      const tables: Record<string, unknown> = {};
      for (const key of this.dirty) {
        const s = this.state.bindingStateV1[key]!;
        tables[key] = { mode: s.mode, key_columns: s.key_columns, scanned: s.scanned, ...(s.metadata !== undefined ? { metadata: s.metadata } : {}), backfilled: s.backfilled };
      }
      updated.bindingStateV1 = tables;
      this.dirty.clear();
    }
    const cursor = this.state.cursor ? parseLsn(this.state.cursor) : undefined;
    await this.task.checkpoint(updated, { onAcknowledged: () => cursor !== undefined && this.stream?.acknowledge(cursor) });
  }

  /**
   * Streams changes: for `fenceAfterMs` first, then up to a fence at the server's current WAL
   * position, made reachable by a watermark write. With `reportFlush`, each commit is a
   * checkpoint. False when the session is stopping (unless not `stoppable`: then it goes on to
   * the fence).
   */
  private async streamToFence(fenceAfterMs: number, reportFlush: boolean, stoppable = true): Promise<boolean> {
    if (fenceAfterMs > 0) {
      const outcome = await this.relay(undefined, fenceAfterMs, reportFlush, stoppable);
      if (outcome === "stopped") return false;
    }
    const fence = await this.serverLsn();
    if (fence === this.lastTxnEnd && this.txn === undefined) {
      if (this.changesSinceCommit > 0) throw new FlowcapError("INTERNAL", `internal error: sanity check failed: already at fence after processing ${this.changesSinceCommit} changes`);
      // Idle: the position is between transactions, as good as a commit.
      this.state.cursor = formatLsn(fence);
      if (reportFlush) await this.emitState();
      return true;
    }
    if (!this.config.readOnlyCapture) {
      await this.client.query(`INSERT INTO ${this.config.watermarksTable} (slot, watermark) VALUES ($1,$2) ON CONFLICT (slot) DO UPDATE SET watermark = $2;`, [this.config.slotName, crypto.randomUUID()]);
    }
    return (await this.relay(fence, undefined, reportFlush, stoppable)) === "fence";
  }

  /** Relays messages until a commit at or past `fence`, or for `forMs`, or until the session stops (when `stoppable`). */
  private async relay(fence: Lsn | undefined, forMs: number | undefined, reportFlush: boolean, stoppable: boolean): Promise<"fence" | "timeout" | "stopped"> {
    const stream = this.stream!;
    const stop = new AbortController();
    const onStop = () => stop.abort();
    if (stoppable) this.task.stopping.addEventListener("abort", onStop, { once: true });
    const timer = forMs !== undefined ? setTimeout(() => stop.abort(), forMs) : undefined;
    try {
      for (;;) {
        const message = stream.tryNext() ?? (await stream.next(stop.signal));
        if (!message) return this.task.stopping.aborted ? "stopped" : "timeout";
        const commitEnd = this.handle(message);
        if (commitEnd !== undefined) {
          this.state.cursor = formatLsn(commitEnd);
          if (reportFlush) await this.emitState();
          if (fence !== undefined && commitEnd >= fence) return "fence";
          if (stoppable && this.task.stopping.aborted) return "stopped";
        } else if (reportFlush && this.txn !== undefined && this.task.pendingBytes > SPLIT_TRANSACTION_BYTES) {
          await this.emitState(); // the cursor stays at the last commit
        }
      }
    } finally {
      clearTimeout(timer);
      this.task.stopping.removeEventListener("abort", onStop);
    }
  }

  /** Handles one message; returns the transaction end LSN when it is a commit. */
  private handle(message: XLogData): Lsn | undefined {
    const msg = decodeMessage(message.data);
    switch (msg.tag) {
      case "B":
        if (this.txn) throw new FlowcapError("CAPTURE_FAILED", "got BEGIN message while another transaction in progress");
        this.txn = msg;
        return undefined;
      case "C":
        if (!this.txn) throw new FlowcapError("CAPTURE_FAILED", "got COMMIT message without a transaction in progress");
        if (this.txn.finalLsn !== msg.commitLsn) throw new FlowcapError("CAPTURE_FAILED", `got COMMIT message with unexpected CommitLSN (${msg.commitLsn}; expected ${this.txn.finalLsn})`);
        this.txn = undefined;
        this.lastTxnEnd = msg.endLsn;
        this.changesSinceCommit = 0;
        return msg.endLsn;
      case "R":
        this.relations.set(msg.relation.oid, msg.relation);
        this.processing.delete(msg.relation.oid);
        return undefined;
      case "I":
      case "U":
      case "D":
        this.onChange(msg, message.walStart);
        return undefined;
      case "T":
        for (const oid of msg.relations) {
          const relation = this.relations.get(oid);
          if (!relation) throw new FlowcapError("CAPTURE_FAILED", `got TRUNCATE message for unknown relation ID ${oid}`);
          const b = this.byStream.get(streamId(relation.namespace, relation.name));
          if (b && ACTIVE.has(this.tableState(b).mode)) this.log.warn("ignoring TRUNCATE on active table", { table: b.streamId });
        }
        return undefined;
      default:
        return undefined; // TYPE, ORIGIN: values of user types are decoded by name from discovery
    }
  }

  private processingFor(oid: number): TableProcessing | null {
    let info = this.processing.get(oid);
    if (info !== undefined) return info;
    const relation = this.relations.get(oid);
    if (!relation) throw new FlowcapError("CAPTURE_FAILED", `unknown relation ID ${oid}`);
    const id = streamId(relation.namespace, relation.name);
    const binding = this.byStream.get(id);
    if (!binding) {
      this.processing.set(oid, null);
      return null;
    }
    const table = this.tables.get(id);
    const keyColumns = this.tableState(binding).key_columns ?? [];
    const names = relation.columns.map((c) => c.name);
    const keyIndexes = keyColumns.map((k) => {
      const at = names.indexOf(k);
      if (at < 0) throw new FlowcapError("CAPTURE_FAILED", `key column ${JSON.stringify(k)} not found in relation ${JSON.stringify(id)}`);
      return at;
    });
    const keyKinds = keyColumns.map((k) => keyKind(table?.columns.find((c) => c.name === k)?.type.name ?? "text"));
    const kept = names.map((n) => (table?.columns.find((c) => c.name === n)?.omit ? undefined : n));
    const shape = new RowShape(
      kept,
      relation.columns.map((c) => columnTranscoder(table, c.name, c.typeOid, table?.primaryKey.includes(c.name) ?? false)),
    );
    info = { binding, relation, shape, keyIndexes, keyKinds, schemaJson: JSON.stringify(relation.namespace), tableJson: JSON.stringify(relation.name) };
    this.processing.set(oid, info);
    return info;
  }

  private scannedKey(b: CaptureBinding): Buffer | null {
    let key = this.scannedKeys.get(b.stateKey);
    if (key === undefined) {
      const scanned = this.tableState(b).scanned;
      key = scanned ? Buffer.from(scanned, "base64") : null;
      this.scannedKeys.set(b.stateKey, key);
    }
    return key;
  }

  private onChange(change: Change, walStart: Lsn): void {
    const txn = this.txn;
    if (!txn) throw new FlowcapError("CAPTURE_FAILED", "got change event without a transaction in progress");
    this.changesSinceCommit++;
    const info = this.processingFor(change.relation);
    const mode = info ? this.tableState(info.binding).mode : undefined;
    if (!info || mode === undefined || !ACTIVE.has(mode)) {
      this.discarded++;
      return;
    }
    if (mode === "Backfill") {
      // Precise backfill: a change beyond the backfilled part of the table is dropped, since
      // the backfill reads that row later.
      const scanned = this.scannedKey(info.binding);
      if (scanned === null) return;
      const key = encodeKey(info.keyKinds, info.keyIndexes.map((i) => change.values[i] as string | null));
      if (compareKeys(key, scanned) > 0) return;
    }
    const op = change.tag === "I" ? "c" : change.tag === "U" ? "u" : "d";
    const b = info.binding;
    let meta = `{"op":"${op}","source":{${txn.commitMs ? `"ts_ms":${txn.commitMs},` : ""}"schema":${info.schemaJson},"table":${info.tableJson},"loc":[${this.lastTxnEnd},${walStart},${txn.finalLsn}]${b.includeTxid && txn.xid ? `,"txid":${txn.xid}` : ""}${this.tagJson}}`;
    if (change.before) meta += `,"before":${info.shape.document(change.before, undefined)}`;
    this.task.capturedJson(b.index, info.shape.document(change.values, meta + "}"));
  }
}
