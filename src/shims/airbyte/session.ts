import type { LineBatch } from "../../protocol/index.js";
import type { CaptureTask, Logger } from "../../runtime/index.js";
import { FlowcapError } from "../../util/errors.js";
import { isPlainObject } from "../../util/mergePatch.js";
import { levelFromName, relayLine } from "../logRelay.js";
import { preview, ProtocolLineRule } from "../protocolLines.js";
import { acceptsDeletions } from "../documents.js";
import { DEFAULT_MAX_TRACKED_KEYS, deleteStaleKeys, finishSnapshot, KeyTracker, RowBook, SkippedStreams, StreamRows } from "../core/index.js";
import { BindingIndex, type ShimBinding } from "./bindings.js";
import type { DocumentNormalizer } from "./patchedDocuments.js";
import { RecordSpan, scanRecord, spliceMeta } from "./recordScanner.js";
import { metaTail } from "../jsonBytes.js";
import type { AirbyteStateKeeper } from "./state.js";
import type { AirbyteMessage, AirbyteStateMessage, AirbyteTraceMessage } from "./types.js";

/** Where a source's `read` output goes: raw stdout lines (child processes) or messages (in-process sources). */
export interface AirbyteMessageSink {
  /** One stdout line, without its newline. Returns a promise when the caller must wait before feeding more. */
  line(line: Buffer): void | Promise<void>;
  /**
   * Stdout lines in a batch the caller hands over (see `LineBatch`: the sink may overwrite the
   * lines it has read, and builds Flow's lines there). Returns a promise when the caller must
   * wait before feeding more.
   */
  lines(batch: LineBatch): void | Promise<void>;
  /** One message object. Returns a promise when the caller must wait before feeding more. */
  message(message: AirbyteMessage): void | Promise<void>;
}

/**
 * A binding as the read session tracks it: its rows (`../core/rowBook.ts`: row ids of
 * incremental streams continue from the state, those of full-refresh streams start at 0 on every
 * read; snapshot streams keep the bound of their ids) and what the Airbyte protocol adds.
 * `appeared` is set by a record, or a STARTED, RUNNING or COMPLETE status: a snapshot stream that
 * did not appear keeps its rows, since a source that skips a stream (an endpoint it may not
 * read, a stream it decides is not due) must not empty its collection.
 */
class Target extends StreamRows<ShimBinding> {
  /** Snapshot streams: the current refresh is complete (its deletions are staged). */
  finished = false;
  /** The source said the stream did not complete: no deletions for it. */
  incomplete = false;
  /** A record without the collection key was warned of. */
  keyless = false;

  constructor(
    binding: ShimBinding,
    slot: Readonly<Record<string, unknown>>,
    /** Keyed full-refresh streams: the keys of the rows in the collection, with the refresh that last sent each. */
    readonly tracker: KeyTracker | undefined,
    /** Keyed full-refresh streams: the number of the refresh under way (its keys are stamped with it). */
    readonly refresh: number,
    /** Rewrites each record's data before it is captured (airbyte-to-flow's normalizations). */
    readonly normalize: DocumentNormalizer | undefined,
  ) {
    super(binding, slot, { continues: binding.syncMode === "incremental", snapshot: binding.snapshot });
  }
}

export interface ReadSessionOptions {
  /** Called with the config of a CONTROL connectorConfig message (persist it before going on). */
  onConfig(config: Record<string, unknown>): Promise<void>;
  /** How logs name the source. */
  label: string;
  /** Keys a keyed full-refresh stream tracks before it stops tracking them (default DEFAULT_MAX_TRACKED_KEYS). */
  maxTrackedKeys?: number;
  /**
   * The normalizer of a binding's records, if any (`--patches`: airbyte-to-flow's date-time and
   * `.normalize.json` rules). Records of a binding without one keep the unparsed fast path.
   */
  normalizerOf?(binding: ShimBinding): DocumentNormalizer | undefined;
}

/**
 * Maps what an Airbyte source writes during `read` onto a Flow capture task:
 *
 * - RECORD → `captured` with `_meta: {op: "u", row_id}` spliced after the record's own `data`
 *   bytes, which are neither decoded nor parsed (see recordScanner.ts). Row ids of incremental
 *   streams continue from the state; those of full-refresh streams start at 0 on every read.
 * - STATE (STREAM, GLOBAL, LEGACY) → a checkpoint with a merge patch of what changed (see
 *   state.ts), which commits every document captured before it.
 * - LOG → a log line at the same level; TRACE ERROR → logged, and the read fails at its end with
 *   the source's message; TRACE ESTIMATE and STREAM_STATUS → logs (a snapshot stream's COMPLETE
 *   also completes its refresh); CONTROL connectorConfig → `onConfig`.
 * - Records of streams no binding captures are skipped, and logged.
 * - Message types are matched in any case. Lines that are not JSON, or not Airbyte messages,
 *   are logged as the source's output; a line that carries an Airbyte message type but does not
 *   parse fails the read at that line (see `../protocolLines.ts`: it would be a record or a
 *   state lost).
 *
 * `complete()` ends a read that succeeded: snapshot streams delete the rows their refresh did
 * not see (unless the source said nothing of the stream, or said it is INCOMPLETE), full-refresh
 * streams drop the source's state of them, and a final checkpoint commits the rest. A read that
 * fails or stops never gets it, so nothing after the source's last STATE is committed.
 *
 * A keyed full-refresh stream (a key of its own, whose collection schema has the deletion rule)
 * has its keys tracked in the state (`../core/keyTracker.ts`, bounded as the Singer shim's are), each
 * with the number of the refresh that last sent it; when a refresh completes (a COMPLETE status,
 * or the end of a read that succeeded), the keys older refreshes sent and it did not are deleted
 * (`_meta.op: "d"`). An incomplete refresh (a failed or stopped read, an INCOMPLETE status, a
 * TRACE error of the stream, a read that says nothing of it) deletes nothing; a refresh that
 * resumes after a failed read goes on with the same number.
 */
export class AirbyteReadSession implements AirbyteMessageSink {
  /** The message of the source's last TRACE error, if it reported one. */
  sourceError: string | undefined;
  records = 0;
  states = 0;

  private lineNumber = 0;
  private readonly span = new RecordSpan();
  private readonly index: BindingIndex<ShimBinding & { target: Target }>;
  private readonly targets: Target[];
  private readonly book: RowBook<Target>;
  private readonly skipped: SkippedStreams;
  private readonly sourceLog: Logger;
  private readonly maxKeys: number;

  constructor(
    private readonly task: CaptureTask,
    bindings: readonly ShimBinding[],
    private readonly keeper: AirbyteStateKeeper,
    private readonly options: ReadSessionOptions,
  ) {
    this.sourceLog = task.log.child({ source: options.label });
    this.skipped = new SkippedStreams(task.log);
    this.maxKeys = options.maxTrackedKeys ?? DEFAULT_MAX_TRACKED_KEYS;
    this.targets = bindings.map((binding) => {
      const slot = keeper.slot(binding.stateKey);
      return new Target(binding, slot, this.keyTracker(binding, slot.keysDropped === true), typeof slot.refresh === "number" ? slot.refresh : 1, options.normalizerOf?.(binding));
    });
    this.book = new RowBook(task, keeper, this.targets);
    this.index = new BindingIndex(this.targets.map((target) => ({ ...target.binding, target })));
    const untracked = bindings.filter((b) => b.keyedRefresh && !acceptsDeletions(b.writeSchema)).map((b) => b.stream);
    if (untracked.length) {
      task.log.warn(
        `stream(s) ${untracked.join(", ")} are read by full refresh, but their collections' schemas have no rule for deletions (discovered before flowcap deleted the rows a refresh no longer has): rows deleted at the source stay in those collections. Discover the capture again to add the rule`,
      );
    }
  }

  line(line: Buffer): void | Promise<void> {
    this.lineNumber++;
    if (scanRecord(line, this.span)) {
      this.fastRecord(line, -1, -1);
      return;
    }
    const message = airbyteMessageOf(line, this.sourceLog, this.lineNumber);
    if (message) return this.message(message);
  }

  lines(batch: LineBatch): void | Promise<void> {
    return batch.eachLine(this.batchLine);
  }

  /** The record path: a line of a batch handed over, a record rewritten in place. */
  private readonly batchLine = (buf: Buffer, start: number, end: number, limit: number): void | Promise<void> => {
    this.lineNumber++;
    if (scanRecord(buf, this.span, start, end)) return this.fastRecord(buf, start, limit);
    const message = airbyteMessageOf(buf.subarray(start, end), this.sourceLog, this.lineNumber);
    if (message) return this.message(message);
  };

  message(message: AirbyteMessage): void | Promise<void> {
    switch (typeof message.type === "string" ? message.type.toUpperCase() : message.type) {
      case "RECORD":
        return this.objectRecord(message.record);
      case "STATE":
        return this.state(message.state);
      case "LOG":
        return this.logMessage(message.log);
      case "TRACE":
        return this.trace(message.trace);
      case "CONTROL":
        return this.control(message.control);
      default:
        // SPEC, CATALOG, CONNECTION_STATUS have no place in a read; unknown types are from newer protocols.
        this.sourceLog.debug(`ignoring an Airbyte ${message.type} message during read`);
    }
  }

  /** The read succeeded: completes snapshot refreshes and writes the final checkpoint. */
  async complete(): Promise<void> {
    for (const target of this.targets) {
      if (target.finished || target.incomplete) continue;
      if (target.binding.snapshot) {
        if (target.appeared) this.finishRefresh(target);
        else if (target.rowsBound > 0) {
          this.task.log.warn(
            `stream ${target.binding.stream}: the source sent no record and no status for it in this read: keeping the ${target.rowsBound} row(s) of its last refresh instead of deleting them`,
          );
        }
      } else if (target.tracker) {
        if (target.appeared) this.finishKeyedRefresh(target);
        else if (target.tracker.size > 0) {
          this.task.log.warn(`stream ${target.binding.stream}: the source sent no record and no status for it in this read: keeping the ${target.tracker.size} row(s) of its last refresh instead of deleting them`);
        }
      }
    }
    // Airbyte hands a full-refresh stream's state back only to the next attempt of a read that
    // failed (resumable full refresh); a completed refresh starts over. Without this, the next
    // read would get `{"__ab_full_refresh_sync_complete": true}` and capture nothing. A stream
    // the source said is INCOMPLETE keeps its state: its refresh is not done.
    for (const target of this.targets) {
      if (target.binding.syncMode === "full_refresh" && !target.incomplete) this.keeper.forgetSourceState(target.binding.stateKey);
    }
    this.task.log.debug("the source's read ended: writing the final checkpoint", { records: this.records, states: this.states });
    await this.book.checkpoint();
    this.skipped.report();
  }

  /**
   * The record fast path: `this.span` locates the record in `buf`, whose data bytes go to Flow as
   * they are. With `lineStart` >= 0, `buf[lineStart, lineLimit)` is the record's line, handed
   * over: its `captured` line is built there; otherwise the bytes are copied.
   */
  private fastRecord(buf: Buffer, lineStart: number, lineLimit: number): void {
    const span = this.span;
    const found = span.namespace === null ? this.index.lookupName(span.stream) : this.index.lookup(span.stream, span.namespace);
    if (!found) return this.unknownStream(span.stream, span.namespace);
    const target = found.target;
    if (target.normalize) {
      const data = JSON.parse(buf.toString("utf8", span.dataStart, span.dataEnd)) as Record<string, unknown>;
      // Unchanged data keeps its bytes (and their numbers' exact digits); changed data is rewritten.
      if (target.normalize(data) || Object.prototype.hasOwnProperty.call(data, "_meta")) return this.parsedRecord(target, data);
    } else if (span.hasMeta) {
      // The data may have a `_meta` of its own: merge ours into it (rare, so parsing is fine).
      const data = JSON.parse(buf.toString("utf8", span.dataStart, span.dataEnd)) as Record<string, unknown>;
      if (Object.prototype.hasOwnProperty.call(data, "_meta")) return this.mergedRecord(target, data);
    }
    // The key is read before the line is handed over.
    if (target.tracker) this.trackKey(target, buf, span.dataStart, span.dataEnd);
    const row = target.nextRowId++;
    if (lineStart >= 0) this.task.capturedInPlace(target.binding.index, buf, lineStart, lineLimit, span.dataStart, span.dataEnd, "u", row);
    else this.task.capturedBytes(target.binding.index, buf, span.dataStart, span.dataEnd - 1, metaTail(buf, span.dataStart, span.dataEnd, `{"op":"u","row_id":${row}}`));
    this.records++;
    this.touch(target);
  }

  /** A record given as an object (in-process sources, and lines the fast path did not take). */
  private objectRecord(record: unknown): void {
    if (!isPlainObject(record) || typeof record.stream !== "string") {
      throw new FlowcapError("SOURCE_OUTPUT_INVALID", `the source wrote a RECORD without a stream name: ${previewValue(record)}`, { userFacing: true });
    }
    const namespace = typeof record.namespace === "string" && record.namespace !== "" ? record.namespace : null;
    const found = this.index.lookup(record.stream, namespace);
    if (!found) return this.unknownStream(record.stream, namespace);
    const data = record.data;
    if (!isPlainObject(data)) {
      throw new FlowcapError("SOURCE_OUTPUT_INVALID", `the source wrote a RECORD of stream ${record.stream} whose data is not a JSON object: ${previewValue(data)}`, {
        userFacing: true,
      });
    }
    const target = found.target;
    if (target.normalize) target.normalize(data);
    return this.parsedRecord(target, data);
  }

  /** A record whose data is parsed: `_meta` merged into its own, if it has one. */
  private parsedRecord(target: Target, data: Record<string, unknown>): void {
    if (Object.prototype.hasOwnProperty.call(data, "_meta")) return this.mergedRecord(target, data);
    const json = JSON.stringify(data);
    this.task.capturedJson(target.binding.index, spliceMeta(json, 0, json.length, `{"op":"u","row_id":${target.nextRowId++}}`));
    this.records++;
    this.touch(target);
    if (target.tracker) this.trackKey(target, Buffer.from(json), 0, json.length);
  }

  private mergedRecord(target: Target, data: Record<string, unknown>): void {
    const own = isPlainObject(data._meta) ? data._meta : {};
    this.task.captured(target.binding.index, { ...data, _meta: { ...own, op: "u", row_id: target.nextRowId++ } });
    this.records++;
    this.touch(target);
    if (target.tracker) {
      const json = Buffer.from(JSON.stringify(data));
      this.trackKey(target, json, 0, json.length);
    }
  }

  /** A keyed full-refresh stream's tracker, or undefined (other streams, and a schema without the deletion rule, warned of in one line). */
  private keyTracker(binding: ShimBinding, dropped: boolean): KeyTracker | undefined {
    if (!binding.keyedRefresh || !acceptsDeletions(binding.writeSchema)) return undefined;
    const tracker = new KeyTracker(this.keeper, binding.stateKey, binding.key, this.maxKeys, dropped);
    tracker.start();
    if (dropped) this.task.log.warn(`stream ${binding.stream}: its refreshes cannot delete the rows they no longer have: it has more keys than are tracked (--max-tracked-keys ${this.maxKeys})`);
    return tracker;
  }

  /** Stamps a keyed full-refresh record's key with the refresh under way. */
  private trackKey(target: Target, bytes: Buffer, start: number, end: number): void {
    const seen = target.tracker!.see(bytes, start, end, target.refresh);
    if (seen === "keyless" && !target.keyless) {
      target.keyless = true;
      this.task.log.warn(`stream ${target.binding.stream}: a record lacks the collection key ${target.binding.key.map((t) => "/" + t.join("/")).join(", ")}: it cannot be deleted by a later refresh`);
    } else if (seen === "dropped") {
      this.task.log.warn(
        `stream ${target.binding.stream} has more than ${this.maxKeys} keys: they are no longer tracked, so its refreshes cannot delete the rows they no longer have. Raise --max-tracked-keys and backfill the binding to track them again`,
      );
    }
  }

  private touch(target: Target): void {
    target.dirty = true;
    target.appeared = true;
    if (target.finished) target.finished = false; // records after COMPLETE: the refresh goes on
  }

  private unknownStream(stream: string, namespace: string | null): void {
    this.skipped.add(namespace ? `${namespace}.${stream}` : stream);
  }

  private async state(state: AirbyteStateMessage | undefined): Promise<void> {
    if (!isPlainObject(state)) {
      this.task.log.warn("ignoring a STATE message without a state object");
      return;
    }
    for (const d of this.keeper.apply(state)) {
      this.task.log.debug(`not keeping the state of stream ${JSON.stringify(d.namespace ? `${d.namespace}.${d.name}` : d.name)}: no binding captures it`);
    }
    this.states++;
    await this.book.checkpoint();
  }

  /**
   * A snapshot stream's refresh is complete: rows the collection may hold beyond this refresh's
   * count are deleted (`_meta.op: "d"`), committed with the next checkpoint.
   */
  private finishRefresh(target: Target): void {
    finishSnapshot(this.task, this.task.log, target, target.nextRowId);
    target.finished = true;
  }

  /**
   * A keyed full-refresh stream's refresh is complete: the keys only earlier refreshes sent are
   * deleted, committed with the next checkpoint, and the next read starts a new refresh. Records
   * after this (more of the same refresh) keep its number.
   */
  private finishKeyedRefresh(target: Target): void {
    const tracker = target.tracker!;
    if (tracker.dropped) return;
    deleteStaleKeys(this.task, this.task.log, target, tracker, target.refresh, (count) => `the refresh is complete: deleting ${count} row(s) it no longer has`);
    target.finished = true;
    this.keeper.stage(target.binding.stateKey, { refresh: target.refresh + 1 });
  }

  private logMessage(log: AirbyteMessage["log"]): void {
    logAirbyteLog(this.sourceLog, log);
  }

  private trace(trace: AirbyteTraceMessage | undefined): void {
    if (!isPlainObject(trace)) return;
    switch (trace.type) {
      case "ERROR": {
        this.sourceError = logTraceError(this.sourceLog, trace);
        const d = isPlainObject(trace.error) ? trace.error.stream_descriptor : undefined;
        if (isPlainObject(d) && typeof d.name === "string") {
          const found = this.index.lookup(d.name, d.namespace);
          if (found) found.target.incomplete = true;
        }
        return;
      }
      case "ESTIMATE":
        this.sourceLog.info("progress estimate", { estimate: trace.estimate });
        return;
      case "STREAM_STATUS": {
        const status = isPlainObject(trace.stream_status) ? trace.stream_status : undefined;
        const d = status?.stream_descriptor;
        this.sourceLog.info(`stream ${d?.name ?? "?"}: ${status?.status ?? "?"}`, { streamStatus: status });
        if (!isPlainObject(d) || typeof d.name !== "string") return;
        const found = this.index.lookup(d.name, d.namespace);
        if (!found) return;
        const target = found.target;
        switch (status?.status) {
          case "INCOMPLETE":
            target.incomplete = true;
            return;
          case "COMPLETE":
            target.appeared = true;
            if (target.binding.snapshot && !target.incomplete) this.finishRefresh(target);
            else if (target.tracker && !target.incomplete) this.finishKeyedRefresh(target);
            return;
          case "STARTED":
          case "RUNNING":
            target.appeared = true;
        }
        return;
      }
      default:
        this.sourceLog.debug(`Airbyte ${trace.type} trace`, { trace });
    }
  }

  private control(control: AirbyteMessage["control"]): Promise<void> | void {
    if (isPlainObject(control) && control.type === "CONNECTOR_CONFIG" && isPlainObject(control.connectorConfig) && isPlainObject(control.connectorConfig.config)) {
      return this.options.onConfig(control.connectorConfig.config);
    }
    this.sourceLog.warn("ignoring an Airbyte CONTROL message that is not a connectorConfig", { control });
  }
}

/** A value the source wrote, as JSON cut short for an error message. */
function previewValue(value: unknown): string {
  return preview(JSON.stringify(value) ?? String(value));
}

/** Logs an Airbyte LOG message at its level (FATAL and ERROR → error, WARN → warn, ...). */
export function logAirbyteLog(log: Logger, message: unknown): void {
  if (!isPlainObject(message)) return;
  const fields: Record<string, unknown> = {};
  if (typeof message.stack_trace === "string" && message.stack_trace) fields.stack_trace = message.stack_trace.split("\n");
  log.log(levelFromName(message.level), typeof message.message === "string" ? message.message : JSON.stringify(message.message), fields);
}

/** Logs a TRACE error at error level and returns its user-facing message. */
export function logTraceError(log: Logger, trace: AirbyteTraceMessage): string {
  const error = isPlainObject(trace.error) ? trace.error : undefined;
  const message = typeof error?.message === "string" && error.message ? error.message : "the source reported an error without a message";
  const d = error?.stream_descriptor;
  log.error(message, {
    ...(error?.internal_message ? { internal_message: error.internal_message } : {}),
    ...(error?.failure_type ? { failure_type: error.failure_type } : {}),
    ...(d ? { stream: d } : {}),
    ...(typeof error?.stack_trace === "string" ? { stack_trace: error.stack_trace.split("\n") } : {}),
  });
  return message;
}

/** The message types of the Airbyte protocol, for the rule of `../protocolLines.ts`. */
const AIRBYTE_LINES = new ProtocolLineRule("Airbyte", "the source", ["RECORD", "STATE", "LOG", "TRACE", "CONTROL", "SPEC", "CATALOG", "CONNECTION_STATUS"]);

/**
 * The Airbyte message on stdout line number `lineNumber`; undefined for a blank line, and for a
 * line that is not JSON or not an Airbyte message, which is logged as the source's output. The
 * type is given in upper case, as the protocol writes it, whatever case the source used. Throws
 * for a line that carries an Airbyte message type but does not parse (see `../protocolLines.ts`).
 */
export function airbyteMessageOf(line: Buffer, log: Logger, lineNumber: number): AirbyteMessage | undefined {
  const text = line.toString("utf8");
  if (text.trim() === "") return undefined;
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch (error) {
    const failure = AIRBYTE_LINES.unreadable(text, lineNumber, (error as Error).message);
    if (failure) throw failure;
    message = undefined;
  }
  if (isPlainObject(message) && typeof message.type === "string") {
    message.type = message.type.toUpperCase();
    return message as AirbyteMessage;
  }
  relayLine(log, text, { stream: "stdout" });
  return undefined;
}
