import { CAPTURED_SUFFIX, capturedDocJson, encodeCheckpoint, encodeSourcedSchema } from "../protocol/index.js";
import { FlowcapError, StoppedError } from "../util/errors.js";
import type { Logger } from "./log.js";
import { Spool, type SpoolBatch, type SpoolBudget } from "./spool.js";
import type { ResponseWriter, WriteFn } from "./writer.js";
import type { AckLedger } from "./ledger.js";

export interface CheckpointOptions {
  /** Apply `updated` as an RFC 7396 merge patch (the default) rather than replacing the whole state. */
  mergePatch?: boolean;
  /**
   * Called once Flow acknowledges this checkpoint, in a session that asked for explicit
   * acknowledgements. When given, checkpoint() resolves as soon as the checkpoint is written and
   * does not wait for the acknowledgement, so a capture can keep reading its source while Flow
   * commits; a change-data capture releases its log position here, and only here. Never called
   * for a checkpoint Flow did not acknowledge (the session ended first).
   */
  onAcknowledged?: () => void;
}

/**
 * A unit of capture work with its own buffer: what it captures is written to stdout only
 * together with its next checkpoint, as one uninterrupted sequence (or, inside writeThrough(),
 * as it is made, with stdout held until the checkpoint).
 */
export interface CaptureTask {
  readonly name: string;
  readonly log: Logger;
  /**
   * Aborted when the session must stop (stdin closed, SIGTERM, or another task failed). Stop at
   * the next checkpoint: what is captured after the last checkpoint is discarded, never written.
   */
  readonly stopping: AbortSignal;
  /**
   * Buffers one document of the binding at index `binding`; it is serialized once, here. It may
   * be called while an earlier checkpoint() is still being written: what a task buffers reaches
   * stdout in the order it was buffered, so the document belongs to the next checkpoint.
   */
  captured(binding: number, doc: object): void;
  /** Like captured(), for a document that is already a serialized JSON object (shims use this). */
  capturedJson(binding: number, docJson: string): void;
  /**
   * Like capturedJson(), for a document whose JSON is the UTF-8 bytes `bytes[start, end)`
   * followed by `tail` (which may complete it, e.g. `,"_meta":{...}}`). The bytes are copied as
   * they are, never decoded: a shim passes a child's output through without making strings.
   */
  capturedBytes(binding: number, bytes: Uint8Array, start: number, end: number, tail?: string): void;
  /**
   * Like capturedBytes() without the copy, for shims passing a child's output through: the
   * document is the JSON object `buf[dataStart, dataEnd)` on the line `buf[lineStart,
   * lineLimit)` (`lineLimit` just past its newline) of a buffer of lines the caller owns, and its
   * `captured` line, with `"_meta":{"op":op,"row_id":rowId}` added as the document's last member,
   * is built where that line lies (following on from the line before, when that one was handed
   * over too). The caller hands those bytes over: it must not read or write them afterwards.
   */
  capturedInPlace(binding: number, buf: Buffer, lineStart: number, lineLimit: number, dataStart: number, dataEnd: number, op: "c" | "u" | "d", rowId: number): void;
  /** Buffers a `sourcedSchema` for the binding; it takes effect at the next checkpoint. */
  sourcedSchema(binding: number, documentSchema: object | boolean): void;
  /**
   * Writes everything buffered since the last checkpoint, then this checkpoint, as one sequence.
   * Resolves once written (waiting while stdout's reader is slow; inside writeThrough(), once
   * handed to stdout, whose reader may still be reading it) and, when the session asked for
   * explicit acknowledgements, once Flow has acknowledged it (unless `onAcknowledged` is given,
   * which is then called instead).
   *
   * Delivery is at-least-once: documents are committed together with the state that follows
   * them, so after a crash a capture resumes from its last committed state and may send again
   * what it sent after that state.
   */
  checkpoint(updated: Record<string, unknown>, options?: CheckpointOptions): Promise<void>;
  /**
   * Runs `section` with stdout held for this task, writing what it captures as it is made
   * instead of holding it until the checkpoint. For work that makes a large checkpoint sequence
   * quickly and ends it with a checkpoint (a chunk of a database backfill): its documents need
   * not wait in memory, and Flow reads them while the next are made. Other tasks keep buffering
   * meanwhile, within the process's budget; their checkpoints wait until the section ends.
   *
   * The guarantees stay those of checkpoint(), because Flow commits nothing before the
   * checkpoint that follows it: `section` must end with checkpoint() (it may call it more than
   * once), and everything it captures belongs to the sequence that checkpoint ends. If it
   * throws (or returns) after documents of an unfinished sequence were written, nothing more is
   * written in this session, since any later checkpoint would commit them, and the session ends
   * with an error; documents not yet written are discarded as usual. When the session is told
   * to stop (`stopping`), a section should still go on to its checkpoint: it has the grace
   * period to do so. Sections do not nest.
   */
  writeThrough<T>(section: () => Promise<T>): Promise<T>;
  /** Bytes of what the task wrote through (writeThrough()) that stdout has not written out yet. */
  readonly unwrittenBytes: number;
  /**
   * Resolves once at most `maxBytes` of what the task wrote through are still on their way to
   * stdout (or stdout failed: the next checkpoint says so). captured() never waits, so a
   * producer inside writeThrough() that cannot wait per document (rows arriving on a socket)
   * pauses its source past a bound of its own and resumes it here: memory stays bounded, and the
   * blocks the documents are written into are reused while warm.
   */
  writable(maxBytes: number): Promise<void>;
  /** Bytes buffered since the last checkpoint (inside writeThrough(): not written yet). */
  readonly pendingBytes: number;
  /**
   * Runs `run` as a child task with its own buffer, concurrently with this one. If it throws,
   * the session fails and every other task is told to stop.
   */
  spawn(name: string, run: (task: CaptureTask) => Promise<void>): Promise<void>;
}

/** What a task needs from its session. */
export interface TaskHost {
  readonly writer: ResponseWriter;
  readonly ledger: AckLedger | undefined;
  readonly stopping: AbortSignal;
  readonly bindingCount: number;
  /** What the spools of all tasks may hold in memory together. */
  readonly spoolBudget: SpoolBudget;
  /** The `captured` prefix of a binding, as bytes (made once per binding, for all tasks). */
  capturedPrefixBytes(binding: number): Buffer;
  track(name: string, run: Promise<void>): Promise<void>;
}

/** `}}\n`, which closes a `captured` line. */
const SUFFIX_BYTES = Buffer.from(CAPTURED_SUFFIX, "latin1");
const OPS = { c: 0x63, u: 0x75, d: 0x64 } as const;

/** A writeThrough() section under way. */
interface WriteThrough {
  readonly write: WriteFn;
  /** The batches handed to `write`, in order: settles once all are written (never rejects). */
  tail: Promise<void>;
  /** The first write that failed; later batches are let go. */
  failure: unknown;
  /** Part of an unfinished sequence (documents after the last checkpoint) was taken to be written. */
  open: boolean;
  /** A flush of the finished blocks is queued. */
  flushQueued: boolean;
}

export class Task implements CaptureTask {
  private readonly spool: Spool;
  private through: WriteThrough | undefined;
  /** Bytes written through and not yet written out; producers waiting in writable(). */
  private unwritten = 0;
  private writableWaiters: { maxBytes: number; resolve: () => void }[] = [];
  private outputFailed = false;

  constructor(
    readonly name: string,
    readonly log: Logger,
    private readonly host: TaskHost,
  ) {
    this.spool = new Spool(host.spoolBudget);
  }

  get stopping(): AbortSignal {
    return this.host.stopping;
  }

  get unwrittenBytes(): number {
    return this.unwritten;
  }

  writable(maxBytes: number): Promise<void> {
    if (this.unwritten <= maxBytes || this.outputFailed) return Promise.resolve();
    return new Promise((resolve) => this.writableWaiters.push({ maxBytes, resolve }));
  }

  /** Counts what is out, for writable(). */
  private readonly onWrittenOut = (bytes: number): void => this.wroteOut(bytes);

  /** `bytes` written through are out (or let go). */
  private wroteOut(bytes: number): void {
    this.unwritten -= bytes;
    if (this.writableWaiters.length === 0) return;
    const waiting = this.writableWaiters;
    this.writableWaiters = [];
    for (const w of waiting) {
      if (this.unwritten <= w.maxBytes || this.outputFailed) w.resolve();
      else this.writableWaiters.push(w);
    }
  }

  get pendingBytes(): number {
    return this.spool.size;
  }

  captured(binding: number, doc: object): void {
    this.checkBinding(binding);
    this.spool.appendJson(this.prefixOf(binding), capturedDocJson(doc), SUFFIX_BYTES);
  }

  capturedJson(binding: number, docJson: string): void {
    this.checkBinding(binding);
    this.spool.appendJson(this.prefixOf(binding), docJson, SUFFIX_BYTES);
  }

  capturedBytes(binding: number, bytes: Uint8Array, start: number, end: number, tail = ""): void {
    this.checkBinding(binding);
    if (!(start >= 0 && start <= end && end <= bytes.length)) {
      throw new FlowcapError("RESPONSE_INVALID", `capturedBytes: [${start}, ${end}) is not a range of the ${bytes.length} bytes given`);
    }
    this.spool.appendBytes(this.prefixOf(binding), bytes, start, end, tail, SUFFIX_BYTES);
  }

  capturedInPlace(binding: number, buf: Buffer, lineStart: number, lineLimit: number, dataStart: number, dataEnd: number, op: "c" | "u" | "d", rowId: number): void {
    this.checkBinding(binding);
    if (!(lineStart >= 0 && lineStart <= dataStart && dataStart < dataEnd && dataEnd <= lineLimit && lineLimit <= buf.length && buf[dataStart] === 0x7b && buf[dataEnd - 1] === 0x7d)) {
      throw new FlowcapError("RESPONSE_INVALID", `capturedInPlace: [${dataStart}, ${dataEnd}) is not an object on the line [${lineStart}, ${lineLimit}) of the ${buf.length} bytes given`);
    }
    const code = OPS[op];
    if (code === undefined || !(Number.isSafeInteger(rowId) && rowId >= 0)) throw new FlowcapError("RESPONSE_INVALID", `capturedInPlace: _meta must be op c, u or d and a row_id from 0, got ${op} and ${rowId}`);
    // An empty object gets `"_meta":...` without a comma before it.
    let j = dataEnd - 2;
    while (j > dataStart && (buf[j] === 0x20 || buf[j] === 0x0a || buf[j] === 0x0d || buf[j] === 0x09)) j--;
    this.spool.appendInPlace(this.prefixOf(binding), buf, lineStart, lineLimit, dataStart, dataEnd - 1, j > dataStart, code, rowId);
  }

  private prefixOf(binding: number): Buffer {
    return this.host.capturedPrefixBytes(binding);
  }

  sourcedSchema(binding: number, documentSchema: object | boolean): void {
    this.checkBinding(binding);
    this.spool.append(encodeSourcedSchema(binding, documentSchema));
  }

  async checkpoint(updated: Record<string, unknown>, options: CheckpointOptions = {}): Promise<void> {
    this.spool.append(encodeCheckpoint({ updated, mergePatch: options.mergePatch ?? true }));
    const { ledger } = this.host;
    let acknowledged: Promise<void> | undefined;
    const through = this.through;
    if (through !== undefined) {
      // stdout is this task's: the sequence goes out now, and its expectation is registered in
      // stdout order before the checkpoint can reach Flow. What is still to be written is in
      // memory already: it is handed to stdout without waiting for the reader, which reads it
      // while the task goes on (its next section's writes wait instead).
      this.writeOut(through, this.spool.take(), true);
      acknowledged = ledger?.expect();
      through.write.handOverRest?.();
      await through.tail;
      if (through.failure !== undefined) {
        acknowledged?.catch(() => {});
        throw through.failure;
      }
    } else {
      ({ acknowledged } = await this.host.writer.exclusive(async (write) => {
        await this.spool.drainTo(write);
        // Registered inside the critical section, so expectations are in stdout order. Wrapped,
        // because returning the bare promise would hold the writer until Flow acknowledges.
        return { acknowledged: ledger?.expect() };
      }));
    }
    if (!acknowledged) return;
    if (options.onAcknowledged) {
      const onAcknowledged = options.onAcknowledged;
      // A rejection means the session ended before Flow acknowledged: nothing to release.
      acknowledged.then(onAcknowledged, () => {});
      return;
    }
    await acknowledged;
  }

  writeThrough<T>(section: () => Promise<T>): Promise<T> {
    if (this.through !== undefined) return Promise.reject(new FlowcapError("INTERNAL", `task ${this.name}: writeThrough() sections do not nest`));
    return this.host.writer.exclusive(
      async (write) => {
        const through: WriteThrough = { write, tail: Promise.resolve(), failure: undefined, open: false, flushQueued: false };
        this.through = through;
        this.spool.onFinished = () => this.queueFlush(through);
        if (this.spool.hasFinished) this.queueFlush(through);
        let result: T;
        try {
          result = await section();
        } catch (error) {
          await this.endWriteThrough(through);
          if (through.open) this.host.writer.abandonSequence(this.abandoned(error));
          throw error;
        }
        await this.endWriteThrough(through);
        if (through.open) {
          const error = new FlowcapError(
            "RESPONSE_INVALID",
            `capture task ${this.name}: a writeThrough() section ended without a checkpoint after the documents it wrote; they are not committed, and nothing more is written in this session`,
          );
          this.host.writer.abandonSequence(error);
          throw error;
        }
        return result;
      },
      `capture task ${this.name}'s checkpoint sequence (written through)`,
    );
  }

  /** The error that ends the session when a section ends inside its sequence by `error`. */
  private abandoned(error: unknown): Error {
    if (error instanceof Error && !(error instanceof StoppedError)) return error;
    return new FlowcapError(
      "CAPTURE_FAILED",
      `capture task ${this.name} stopped inside a checkpoint sequence it was writing through (${error instanceof Error ? error.message : String(error)}): the documents it wrote after its last checkpoint are not committed, and nothing more is written in this session`,
      { cause: error, userFacing: true },
    );
  }

  /** Hands the finished part of the sequence to stdout once the code appending to the spool yields (the spool must not be taken from within an append). */
  private queueFlush(through: WriteThrough): void {
    if (through.flushQueued) return;
    through.flushQueued = true;
    queueMicrotask(() => {
      through.flushQueued = false;
      if (this.through === through && this.spool.hasFinished) this.writeOut(through, this.spool.take(true), false);
    });
  }

  /** Writes `batch` after the batches before it; `ends` when it ends with a checkpoint. */
  private writeOut(through: WriteThrough, batch: SpoolBatch, ends: boolean): void {
    through.open = !ends;
    this.unwritten += batch.bytes;
    through.tail = through.tail.then(() => {
      if (through.failure !== undefined) {
        this.spool.releaseBatch(batch);
        return this.wroteOut(batch.bytes);
      }
      return this.spool.writeBatch(batch, through.write, this.onWrittenOut).then(
        // Out now, rather than gathered until the section ends: Flow reads while the task works.
        () => through.write.flush?.(),
        (error: unknown) => {
          through.failure ??= error;
          // What was not handed over is never counted out: producers waiting for it go on.
          this.outputFailed = true;
          this.wroteOut(0);
        },
      );
    });
  }

  /** Ends the section's writing through (what the task captures is held again) once its batches are written. */
  private async endWriteThrough(through: WriteThrough): Promise<void> {
    this.through = undefined;
    this.spool.onFinished = undefined;
    await through.tail;
  }

  spawn(name: string, run: (task: CaptureTask) => Promise<void>): Promise<void> {
    const child = new Task(name, this.log.child({ task: name }), this.host);
    return this.host.track(
      name,
      (async () => {
        try {
          await run(child);
        } finally {
          child.close();
        }
      })(),
    );
  }

  /** Discards what was not checkpointed and releases the spool. */
  close(): void {
    this.outputFailed = true;
    this.wroteOut(0);
    if (this.spool.size > 0) this.log.debug("discarding documents captured after the last checkpoint", { bytes: this.spool.size });
    this.spool.close();
  }

  private checkBinding(binding: number): void {
    if (!(binding >= 0 && binding < this.host.bindingCount && Number.isInteger(binding))) {
      throw new FlowcapError(
        "RESPONSE_INVALID",
        `binding ${binding} is out of range: the capture has ${this.host.bindingCount} binding(s), indexed from 0`,
      );
    }
  }
}
