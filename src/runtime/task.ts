import { CAPTURED_SUFFIX, capturedPrefix, encodeCaptured, encodeCapturedJson, encodeCheckpoint, encodeSourcedSchema } from "../protocol/index.js";
import { FlowcapError } from "../util/errors.js";
import type { Logger } from "./log.js";
import { Spool } from "./spool.js";
import type { ResponseWriter } from "./writer.js";
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
 * together with its next checkpoint, as one uninterrupted sequence.
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
  /** Buffers a `sourcedSchema` for the binding; it takes effect at the next checkpoint. */
  sourcedSchema(binding: number, documentSchema: object | boolean): void;
  /**
   * Writes everything buffered since the last checkpoint, then this checkpoint, as one sequence.
   * Resolves once written (waiting while stdout's reader is slow) and, when the session asked
   * for explicit acknowledgements, once Flow has acknowledged it (unless `onAcknowledged` is
   * given, which is then called instead).
   *
   * Delivery is at-least-once: documents are committed together with the state that follows
   * them, so after a crash a capture resumes from its last committed state and may send again
   * what it sent after that state.
   */
  checkpoint(updated: Record<string, unknown>, options?: CheckpointOptions): Promise<void>;
  /** Bytes buffered since the last checkpoint. */
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
  readonly spoolMemoryBytes: number;
  track(name: string, run: Promise<void>): Promise<void>;
}

/** `}}\n`, which closes a `captured` line. */
const SUFFIX_BYTES = Buffer.from(CAPTURED_SUFFIX, "latin1");

export class Task implements CaptureTask {
  private readonly spool: Spool;
  /** The `captured` prefix of each binding, as bytes (for capturedBytes). */
  private readonly prefixBytes: Buffer[] = [];

  constructor(
    readonly name: string,
    readonly log: Logger,
    private readonly host: TaskHost,
  ) {
    this.spool = new Spool(host.spoolMemoryBytes);
  }

  get stopping(): AbortSignal {
    return this.host.stopping;
  }

  get pendingBytes(): number {
    return this.spool.size;
  }

  captured(binding: number, doc: object): void {
    this.checkBinding(binding);
    this.spool.append(encodeCaptured(binding, doc));
  }

  capturedJson(binding: number, docJson: string): void {
    this.checkBinding(binding);
    this.spool.append(encodeCapturedJson(binding, docJson));
  }

  capturedBytes(binding: number, bytes: Uint8Array, start: number, end: number, tail = ""): void {
    this.checkBinding(binding);
    if (!(start >= 0 && start <= end && end <= bytes.length)) {
      throw new FlowcapError("RESPONSE_INVALID", `capturedBytes: [${start}, ${end}) is not a range of the ${bytes.length} bytes given`);
    }
    const head = (this.prefixBytes[binding] ??= Buffer.from(capturedPrefix(binding), "latin1"));
    this.spool.appendBytes(head, bytes, start, end, tail, SUFFIX_BYTES);
  }

  sourcedSchema(binding: number, documentSchema: object | boolean): void {
    this.checkBinding(binding);
    this.spool.append(encodeSourcedSchema(binding, documentSchema));
  }

  async checkpoint(updated: Record<string, unknown>, options: CheckpointOptions = {}): Promise<void> {
    this.spool.append(encodeCheckpoint({ updated, mergePatch: options.mergePatch ?? true }));
    const { ledger } = this.host;
    const { acknowledged } = await this.host.writer.exclusive(async (write) => {
      await this.spool.drainTo(write);
      // Registered inside the critical section, so expectations are in stdout order. Wrapped,
      // because returning the bare promise would hold the writer until Flow acknowledges.
      return { acknowledged: ledger?.expect() };
    });
    if (!acknowledged) return;
    if (options.onAcknowledged) {
      const onAcknowledged = options.onAcknowledged;
      // A rejection means the session ended before Flow acknowledged: nothing to release.
      acknowledged.then(onAcknowledged, () => {});
      return;
    }
    await acknowledged;
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
