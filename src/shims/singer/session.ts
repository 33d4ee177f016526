import type { LineBatch } from "../../protocol/index.js";
import type { CaptureTask, Logger } from "../../runtime/index.js";
import { FlowcapError } from "../../util/errors.js";
import { isPlainObject, type JsonObject } from "../../util/mergePatch.js";
import { relayLine } from "../logRelay.js";
import { jsonProblem, preview, ProtocolLineRule } from "../protocolLines.js";
import { documentSchema } from "../documents.js";
import { LBRACE, metaTail, objectMembers, QUOTE, skipWs, valueAt, type JsonMember } from "../jsonBytes.js";
import { readBatch } from "./batch.js";
import type { SingerBinding } from "./bindings.js";
import { scanSingerRecord, SingerRecordSpan } from "./recordScanner.js";
import { modernSchema } from "./schema.js";
import type { SingerStateKeeper } from "./state.js";
import { DEFAULT_MAX_TRACKED_KEYS, deleteStaleKeys, finishSnapshot, KeyTracker, PENDING_VERSION, RowBook, SkippedStreams, StreamRows } from "../core/index.js";

export { DEFAULT_MAX_TRACKED_KEYS } from "../core/index.js";

export interface SyncSessionOptions {
  /** How logs name the tap. */
  label: string;
  /** Emit each bound stream's SCHEMA as a closed `sourcedSchema` (default false). */
  sourcedSchemas?: boolean;
  /** Keys a `keys`-mode binding tracks before it stops tracking them (default DEFAULT_MAX_TRACKED_KEYS). */
  maxTrackedKeys?: number;
  /** Where BATCH file paths that are relative are resolved (the tap's working directory). */
  cwd?: string;
  /** Longest line of a BATCH file. */
  maxLineBytes?: number;
}

/**
 * A binding as the session tracks it: its rows (`../core/rowBook.ts`: row ids continue across
 * runs; a rows-mode stream is a snapshot whose `rowsVersion` is the version its row ids belong
 * to, undefined for unversioned refreshes) and what the Singer protocol adds. `appeared` is set
 * by a SCHEMA, RECORD, ACTIVATE_VERSION or BATCH of the stream.
 */
class Target extends StreamRows<SingerBinding> {
  records = 0;
  /** rows mode: this run has had a record, which decided whether the refresh restarts. */
  refreshing = false;
  /** The version activated in this run whose deletions are still to be made. */
  pendingActivation: number | undefined = undefined;
  /** The last sourcedSchema written, as JSON. */
  sourced: string | undefined = undefined;
  readonly warned = new Set<string>();
  /**
   * The stream declares `_sdc_deleted_at` (in the collection's schema or a SCHEMA message): the
   * Singer convention for rows deleted at the source (log-based replication of pipelinewise's
   * and Meltano's database taps), whose records carry the key and a deletion time.
   */
  softDeletes: boolean;

  constructor(
    binding: SingerBinding,
    slot: Readonly<Record<string, unknown>>,
    /** keys mode: the stream's keys (key JSON → version), tracked once the tap versions the stream. */
    readonly tracker: KeyTracker | undefined,
  ) {
    super(binding, slot, { continues: true, snapshot: binding.mode === "rows" });
    this.softDeletes = binding.mode !== "rows" && declares(binding.writeSchema, SDC_DELETED_AT);
  }
}

/** The Singer convention's deletion marker: a record whose `_sdc_deleted_at` is not null. */
const SDC_DELETED_AT = "_sdc_deleted_at";

/**
 * Maps what a Singer tap writes during a sync onto a Flow capture task:
 *
 * - RECORD → `captured` with `_meta: {op: "u", row_id}` spliced after the record's own bytes,
 *   which are neither decoded nor parsed (see recordScanner.ts): integers beyond 2^53 stay exact.
 *   Records of streams no binding captures are skipped, and counted in a log line.
 * - STATE → a checkpoint that commits every document captured before it and keeps the tap's
 *   state (see state.ts). Documents after the last STATE are committed only when the tap exits
 *   successfully (`complete()`), never when it fails or is stopped.
 * - SCHEMA → checks the stream is bound (and its key is the binding's); with `sourcedSchemas`, a
 *   closed `sourcedSchema` of it, written when it changes.
 * - A record with a non-null `_sdc_deleted_at` (log-based replication's deletions) of a keyed
 *   stream that declares that property → `_meta.op: "d"`, so Flow deletes the row instead of
 *   replacing it with a document that holds only the key. Streams that do not declare it pay
 *   nothing for this.
 * - ACTIVATE_VERSION → deletions (`_meta.op: "d"`) of the rows of earlier versions: see
 *   VersionMode in bindings.ts. They are made when the stream's next activation arrives or the
 *   tap completes, so rows a new version re-sends are not deleted and re-added in between.
 * - BATCH → the records of its JSONL(.gz) files, captured like RECORDs.
 * - Message types are matched in any case. Lines that are not JSON objects with a type are
 *   logged as the tap's output; a line that carries a Singer message type but does not parse
 *   fails the capture at that line (see `../protocolLines.ts`: it would be a record or a state
 *   lost).
 */
export class SingerSyncSession {
  records = 0;
  states = 0;
  deletions = 0;

  private readonly span = new SingerRecordSpan();
  private readonly byName = new Map<string, Target>();
  private readonly targets: Target[];
  private readonly book: RowBook<Target>;
  private readonly skipped: SkippedStreams;
  /** Message types the shim does not know, reported once each. */
  private readonly unknownTypes = new Set<string>();
  private readonly tapLog: Logger;
  private readonly maxKeys: number;
  private lineNo = 0;

  constructor(
    private readonly task: CaptureTask,
    bindings: readonly (SingerBinding & { names?: readonly string[] })[],
    private readonly keeper: SingerStateKeeper,
    private readonly options: SyncSessionOptions,
  ) {
    this.tapLog = task.log.child({ tap: options.label });
    this.skipped = new SkippedStreams(task.log);
    this.maxKeys = options.maxTrackedKeys ?? DEFAULT_MAX_TRACKED_KEYS;
    this.targets = bindings.map((binding) => {
      const slot = keeper.slot(binding.stateKey);
      const target = new Target(binding, slot, binding.mode === "keys" ? new KeyTracker(keeper, binding.stateKey, binding.key, this.maxKeys, slot.keysDropped === true) : undefined);
      if (slot.versioned === true) target.tracker?.start();
      return target;
    });
    this.book = new RowBook(task, keeper, this.targets);
    // The tap's id wins; other names a tap may write (stream, alias) match when no other binding has them.
    for (const t of this.targets) this.byName.set(t.binding.stream, t);
    for (const [i, b] of bindings.entries()) for (const n of b.names ?? []) if (!this.byName.has(n)) this.byName.set(n, this.targets[i]!);
  }

  /** One line of the tap's stdout, without its newline. Returns a promise when the caller must wait. */
  line(line: Buffer): void | Promise<void> {
    this.lineNo++;
    if (scanSingerRecord(line, this.span)) {
      const target = this.byName.get(this.span.stream);
      if (!target) return this.skip(this.span.stream);
      this.record(target, line, this.span.recordStart, this.span.recordEnd, this.span.hasMeta, this.span.version);
      return;
    }
    return this.message(line);
  }

  /**
   * Lines of the tap's stdout in a batch handed over (see `LineBatch`): RECORD lines become
   * `captured` lines where they lie. Returns a promise when the caller must wait.
   */
  lines(batch: LineBatch): void | Promise<void> {
    return batch.eachLine(this.batchLine);
  }

  private readonly batchLine = (buf: Buffer, start: number, end: number, limit: number): void | Promise<void> => {
    this.lineNo++;
    const span = this.span;
    if (scanSingerRecord(buf, span, start, end)) {
      const target = this.byName.get(span.stream);
      if (!target) return this.skip(span.stream);
      return this.record(target, buf, span.recordStart, span.recordEnd, span.hasMeta, span.version, start, limit);
    }
    return this.message(buf.subarray(start, end));
  };

  /** The tap exited successfully: makes the deletions still due, and writes the final checkpoint. */
  async complete(): Promise<void> {
    for (const target of this.targets) {
      if (target.pendingActivation !== undefined) this.flush(target);
      if (target.binding.mode === "rows" && target.appeared) this.finishRefresh(target);
      this.warnIfNeverVersioned(target);
    }
    this.task.log.debug("the tap exited: writing the final checkpoint", { records: this.records, states: this.states });
    await this.book.checkpoint();
    this.skipped.report();
  }

  // --- messages -------------------------------------------------------------------------

  private message(line: Buffer): void | Promise<void> {
    const start = skipWs(line, 0);
    if (start === line.length) return;
    const envelope = line[start] === LBRACE ? objectMembers(line, start) : undefined;
    if (!envelope || skipWs(line, envelope.end) !== line.length) return this.notAMessage(line);
    const member = (name: string) => envelope.members.filter((m) => m.key === name).at(-1);
    const typeMember = member("type");
    if (!typeMember || line[typeMember.valueStart] !== QUOTE) {
      relayLine(this.tapLog, line.toString("utf8"), { stream: "stdout" });
      return;
    }
    const type = (JSON.parse(text(line, typeMember)) as string).toUpperCase();
    switch (type) {
      case "RECORD":
        return this.slowRecord(line, member);
      case "STATE":
        return this.state(line, member("value"));
      case "SCHEMA":
        return this.schema(parseLine(line, this.lineNo));
      case "ACTIVATE_VERSION":
        return this.activateMessage(parseLine(line, this.lineNo));
      case "BATCH":
        return this.batch(parseLine(line, this.lineNo));
      default:
        if (!this.unknownTypes.has(type)) this.tapLog.info(`ignoring the tap's ${type} messages (not a Singer message the shim knows)`);
        this.unknownTypes.add(type);
    }
  }

  /** A line that is not a JSON object: the tap's output, logged; unless it carries a Singer message type (see `../protocolLines.ts`). */
  private notAMessage(line: Buffer): void {
    const text = line.toString("utf8");
    const problem = jsonProblem(text);
    const failure = problem === undefined ? undefined : SINGER_LINES.unreadable(text, this.lineNo, problem);
    if (failure) throw failure;
    relayLine(this.tapLog, text, { stream: "stdout" });
  }

  /** A RECORD the fast path did not take: located again without parsing its record. */
  private slowRecord(line: Buffer, member: (name: string) => JsonMember | undefined): void {
    const stream = member("stream");
    const record = member("record");
    if (!stream || line[stream.valueStart] !== QUOTE) throw this.invalid("a RECORD without a stream name", line);
    const name = JSON.parse(text(line, stream)) as string;
    if (!record || line[record.valueStart] !== LBRACE) throw this.invalid(`a RECORD of stream ${JSON.stringify(name)} whose record is not a JSON object`, line);
    const target = this.byName.get(name);
    if (!target) return this.skip(name);
    const v = member("version");
    const version = v ? versionOf(JSON.parse(text(line, v))) : undefined;
    const hasMeta = valueAt(line, record.valueStart, record.valueEnd, ["_meta"]) !== undefined;
    this.record(target, line, record.valueStart, record.valueEnd, hasMeta, version);
  }

  private invalid(what: string, line: Buffer): FlowcapError {
    return new FlowcapError("SOURCE_OUTPUT_INVALID", `the tap wrote ${what} (stdout line ${this.lineNo}): ${preview(line.toString("utf8"))}`, { userFacing: true });
  }

  private skip(stream: string): void {
    this.skipped.add(stream);
  }

  // --- records --------------------------------------------------------------------------

  /**
   * A record whose object is `bytes[start, end)`. With `lineStart` >= 0, `bytes[lineStart,
   * lineLimit)` is its line, handed over: the `captured` line is built there.
   */
  private record(target: Target, bytes: Buffer, start: number, end: number, hasMeta: boolean, version: number | undefined, lineStart = -1, lineLimit = -1): void {
    target.appeared = true;
    const b = target.binding;
    if (b.mode === "rows") this.refreshRow(target, version);
    else if (b.mode === "keys") this.trackKey(target, bytes, start, end, version);
    const op = target.softDeletes && softDeleted(bytes, start, end) ? "d" : "u";
    const row = target.nextRowId++;
    if (hasMeta) this.mergedRecord(target, bytes, start, end, `{"op":"${op}","row_id":${row}}`);
    else if (lineStart >= 0) this.task.capturedInPlace(b.index, bytes, lineStart, lineLimit, start, end, op, row);
    else this.task.capturedBytes(b.index, bytes, start, end - 1, metaTail(bytes, start, end, `{"op":"${op}","row_id":${row}}`));
    target.records++;
    this.records++;
    target.dirty = true;
  }

  /** A record with a `_meta` of its own: ours is merged into it (only that member is parsed). */
  private mergedRecord(target: Target, bytes: Buffer, start: number, end: number, meta: string): void {
    const at = valueAt(bytes, start, end, ["_meta"]);
    if (!at) {
      this.task.capturedBytes(target.binding.index, bytes, start, end - 1, metaTail(bytes, start, end, meta));
      return;
    }
    const own = JSON.parse(bytes.toString("utf8", at[0], at[1])) as unknown;
    const merged = JSON.stringify({ ...(isPlainObject(own) ? own : {}), ...(JSON.parse(meta) as JsonObject) });
    const doc = Buffer.concat([bytes.subarray(start, at[0]), Buffer.from(merged), bytes.subarray(at[1], end)]);
    this.task.capturedBytes(target.binding.index, doc, 0, doc.length);
  }

  /** rows mode: a record of a new version, or the first of an unversioned refresh in this run, numbers its rows from 0. */
  private refreshRow(target: Target, version: number | undefined): void {
    if (version !== undefined) {
      if (version !== target.rowsVersion) {
        target.nextRowId = 0;
        target.rowsVersion = version;
      }
    } else if (!target.refreshing) {
      target.nextRowId = 0;
      target.rowsVersion = undefined;
    }
    target.refreshing = true;
  }

  /** keys mode: the record's key, with its version, once the stream is versioned. */
  private trackKey(target: Target, bytes: Buffer, start: number, end: number, version: number | undefined): void {
    const tracker = target.tracker!;
    if (!tracker.tracking) {
      if (version === undefined || tracker.dropped) return;
      this.startTracking(target);
    }
    const seen = tracker.see(bytes, start, end, version ?? PENDING_VERSION);
    if (seen === "keyless") {
      this.warnOnce(target, "keyless", `stream ${target.binding.stream}: a record lacks the collection key ${target.binding.key.map((t) => "/" + t.join("/")).join(", ")}: it cannot be deleted by a later version`);
    } else if (seen === "dropped") {
      this.keeper.stage(target.binding.stateKey, { versioned: undefined });
      this.tapLog.warn(
        `stream ${target.binding.stream} has more than ${this.maxKeys} keys: they are no longer tracked, so ACTIVATE_VERSION cannot delete its stale rows. Raise --max-tracked-keys and backfill the binding to track them again`,
      );
    }
  }

  private startTracking(target: Target): void {
    const b = target.binding;
    target.tracker!.start();
    this.keeper.stage(b.stateKey, { versioned: true });
    if (target.nextRowId > 0) {
      this.tapLog.warn(`stream ${b.stream} is versioned from now on: its rows are tracked, so later versions delete the rows they no longer have; rows captured before (${target.nextRowId} document(s)) are not tracked, and stay`);
    } else {
      this.tapLog.debug(`stream ${b.stream} is versioned: tracking its keys`);
    }
  }

  // --- versions -------------------------------------------------------------------------

  private activateMessage(message: JsonObject): void {
    const name = message.stream;
    if (typeof name !== "string") throw new FlowcapError("SOURCE_OUTPUT_INVALID", `the tap wrote an ACTIVATE_VERSION without a stream name (stdout line ${this.lineNo})`, { userFacing: true });
    const version = versionOf(message.version);
    if (version === undefined) throw new FlowcapError("SOURCE_OUTPUT_INVALID", `the tap wrote an ACTIVATE_VERSION of stream ${JSON.stringify(name)} without a numeric version (stdout line ${this.lineNo})`, { userFacing: true });
    const target = this.byName.get(name);
    if (!target) {
      this.tapLog.debug(`ignoring ACTIVATE_VERSION ${version} of stream ${JSON.stringify(name)}: no binding captures it`);
      return;
    }
    target.appeared = true;
    const b = target.binding;
    if (b.mode === "none") {
      this.infoOnce(target, "activate", `stream ${b.stream} is replicated incrementally (${b.replication_method ?? `by ${b.replication_key}`}): its rows are only added and updated, so ACTIVATE_VERSION ${version} deletes none`);
      return;
    }
    if (b.mode === "keys" && !target.tracker!.tracking) {
      if (target.tracker!.dropped) {
        this.tapLog.warn(`stream ${b.stream}: ACTIVATE_VERSION ${version} cannot delete stale rows: the stream has more keys than are tracked (--max-tracked-keys ${this.maxKeys})`);
        return;
      }
      this.startTracking(target);
    }
    // A second activation in this run: the first one's deletions are due now.
    if (target.pendingActivation !== undefined) this.flush(target);
    target.pendingActivation = version;
  }

  /** Makes the deletions of the stream's pending activation. */
  private flush(target: Target): void {
    const version = target.pendingActivation!;
    target.pendingActivation = undefined;
    const b = target.binding;
    if (b.mode === "rows") {
      if (target.rowsVersion !== version && !(target.rowsVersion === undefined && target.refreshing)) {
        // The activated version had no record in this run: it is empty.
        target.nextRowId = 0;
        target.rowsVersion = version;
        target.refreshing = true;
      }
      this.finishRefresh(target);
      return;
    }
    const tracker = target.tracker;
    if (!tracker?.tracking) return;
    this.deletions += deleteStaleKeys(this.task, this.tapLog, target, tracker, version, (count) => `version ${version} is active: deleting ${count} row(s) of earlier versions`);
  }

  /** rows mode: the current refresh is complete: rows the collection may hold beyond its count are deleted. */
  private finishRefresh(target: Target): void {
    const count = target.refreshing ? target.nextRowId : 0;
    if (!target.refreshing) {
      target.nextRowId = 0;
      target.rowsVersion = undefined;
    }
    this.deletions += finishSnapshot(this.task, this.tapLog, target, count);
    target.refreshing = true;
  }

  /**
   * A keyed FULL_TABLE stream learns of deleted rows only from versions: a tap that never sends
   * ACTIVATE_VERSION (nor versioned records) leaves rows deleted at the source in the collection
   * for ever. Nothing in the stream says so, so the run that shows it warns. Streams whose method
   * the tap decides are left alone: most of those are incremental, where no version is due.
   */
  private warnIfNeverVersioned(target: Target): void {
    const b = target.binding;
    if (b.mode !== "keys" || b.replication_method !== "FULL_TABLE" || target.records === 0 || target.tracker?.tracking || target.tracker?.dropped) return;
    this.warnOnce(
      target,
      "unversioned",
      `stream ${b.stream} is replicated in full (FULL_TABLE) but the tap never versions it (no ACTIVATE_VERSION, no record version): rows deleted at the source stay in the collection. ` +
        `Use a tap that sends ACTIVATE_VERSION for full-table streams, or capture the stream into a collection keyed by /_meta/row_id, which each sync replaces whole`,
    );
  }

  // --- state, schema, batch ----------------------------------------------------------------

  private async state(line: Buffer, value: JsonMember | undefined): Promise<void> {
    if (!value) {
      this.tapLog.warn(`ignoring a STATE message without a value (stdout line ${this.lineNo})`);
      return;
    }
    this.keeper.apply(line, value.valueStart, value.valueEnd);
    this.states++;
    await this.book.checkpoint();
  }

  private schema(message: JsonObject): void {
    const name = message.stream;
    if (typeof name !== "string") throw new FlowcapError("SOURCE_OUTPUT_INVALID", `the tap wrote a SCHEMA without a stream name (stdout line ${this.lineNo})`, { userFacing: true });
    const target = this.byName.get(name);
    if (!target) {
      this.tapLog.debug(`the tap described stream ${JSON.stringify(name)}, which no binding captures: its records will be skipped`);
      return;
    }
    target.appeared = true;
    const b = target.binding;
    const keys = Array.isArray(message.key_properties) ? (message.key_properties as unknown[]).filter((k): k is string => typeof k === "string") : [];
    const bindingKeys = b.key.map((t) => t.join("/"));
    if (keys.length && b.mode !== "rows" && keys.join("\u0000") !== bindingKeys.join("\u0000")) {
      this.warnOnce(target, "key", `stream ${b.stream}: the tap keys it by ${JSON.stringify(keys)}, the collection by ${JSON.stringify(bindingKeys)}`);
    }
    if (b.mode !== "rows" && declares(message.schema, SDC_DELETED_AT)) target.softDeletes = true;
    if (!this.options.sourcedSchemas) return;
    if (!isPlainObject(message.schema)) return;
    const schema = documentSchema(modernSchema(message.schema), { deletions: true, keyProperties: b.mode === "rows" ? [] : b.key.filter((t) => t.length === 1).map((t) => t[0]!) });
    if (schema.additionalProperties === undefined) schema.additionalProperties = false;
    const json = JSON.stringify(schema);
    if (json === target.sourced) return;
    target.sourced = json;
    this.task.sourcedSchema(b.index, schema);
  }

  private async batch(message: JsonObject): Promise<void> {
    const name = message.stream;
    if (typeof name !== "string") throw new FlowcapError("SOURCE_OUTPUT_INVALID", `the tap wrote a BATCH without a stream name (stdout line ${this.lineNo})`, { userFacing: true });
    const target = this.byName.get(name);
    const encoding = isPlainObject(message.encoding) ? message.encoding : {};
    const manifest = Array.isArray(message.manifest) ? message.manifest.filter((f): f is string => typeof f === "string") : [];
    if (!target) {
      this.tapLog.warn(`skipping a BATCH of stream ${JSON.stringify(name)} (${manifest.length} file(s)): no binding captures it`);
      return;
    }
    target.appeared = true;
    for (const file of manifest) {
      const count = await readBatch(file, encoding, { cwd: this.options.cwd, maxLineBytes: this.options.maxLineBytes }, (line, start, end, hasMeta) => this.record(target, line, start, end, hasMeta, undefined));
      this.tapLog.debug(`stream ${target.binding.stream}: captured ${count} record(s) of BATCH file ${file}`);
    }
  }

  private warnOnce(target: Target, what: string, message: string): void {
    if (target.warned.has(what)) return;
    target.warned.add(what);
    this.tapLog.warn(message);
  }

  private infoOnce(target: Target, what: string, message: string): void {
    if (target.warned.has(what)) return;
    target.warned.add(what);
    this.tapLog.info(message);
  }
}

function text(line: Buffer, m: JsonMember): string {
  return line.toString("utf8", m.valueStart, m.valueEnd);
}

/** The message types of the Singer specification, for the rule of `../protocolLines.ts`. */
const SINGER_LINES = new ProtocolLineRule("Singer", "the tap", ["RECORD", "STATE", "SCHEMA", "ACTIVATE_VERSION", "BATCH"]);

function parseLine(line: Buffer, lineNo: number): JsonObject {
  const text = line.toString("utf8");
  try {
    return JSON.parse(text) as JsonObject;
  } catch (error) {
    const problem = (error as Error).message;
    throw SINGER_LINES.unreadable(text, lineNo, problem) ?? new FlowcapError("SOURCE_OUTPUT_INVALID", `the tap wrote an unreadable Singer message (stdout line ${lineNo}, not valid JSON: ${problem})`, { userFacing: true });
  }
}

/** A version as taps write it: a number, or a numeric string; undefined otherwise. */
function versionOf(value: unknown): number | undefined {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "string" && /^-?\d+(\.\d+)?$/.test(value.trim())) return Number(value);
  return undefined;
}

/** Whether a JSON schema declares a top-level property. */
function declares(schema: unknown, property: string): boolean {
  return isPlainObject(schema) && isPlainObject(schema.properties) && schema.properties[property] !== undefined;
}

/** Whether the record `bytes[start, end)` has a `_sdc_deleted_at` that is not null. */
function softDeleted(bytes: Buffer, start: number, end: number): boolean {
  const at = valueAt(bytes, start, end, [SDC_DELETED_AT]);
  return at !== undefined && bytes[at[0]] !== 0x6e; // "n": null, the row is live
}
