import { setMaxListeners } from "node:events";
import { StoppedError } from "../util/errors.js";
import { capturedPrefix } from "../protocol/index.js";
import { aborted } from "../util/abort.js";
import type { Logger } from "./log.js";
import { AckLedger } from "./ledger.js";
import { Task, type TaskHost } from "./task.js";
import { SpoolBudget } from "./spool.js";
import type { ResponseWriter } from "./writer.js";
import type { OpenedCapture } from "./connector.js";

export interface SessionOptions {
  writer: ResponseWriter;
  log: Logger;
  bindingCount: number;
  explicitAcknowledgements: boolean;
  /** Bytes of pending lines all tasks together keep in memory before spilling to disk. */
  spoolMemoryBytes: number;
  /** How long tasks get, once told to stop, to reach their next checkpoint. */
  gracefulStopMs: number;
}

/**
 * One capture session (`open` until exit): the tasks, their common stop signal, and the
 * acknowledgement ledger. Ends when every task has finished and what they wrote has been read,
 * or when the grace period after a stop runs out, whatever Flow's reader does: tasks that have
 * not reached their next checkpoint by then are abandoned (nothing uncommitted was written,
 * unless a task was writing its sequence through: see CaptureTask.writeThrough), and a sequence
 * still being written when Flow stopped reading ends the session with an OUTPUT_STALLED error
 * (it is not committed).
 */
export class Session implements TaskHost {
  readonly writer: ResponseWriter;
  readonly ledger: AckLedger | undefined;
  readonly bindingCount: number;
  readonly spoolBudget: SpoolBudget;
  /** Each binding's `captured` prefix as bytes, shared by all tasks (a sparse array per task would grow with the binding count). */
  private readonly prefixes: Buffer[];
  private readonly log: Logger;
  private readonly controller = new AbortController();
  private readonly running = new Set<Promise<void>>();
  private readonly gracefulStopMs: number;
  private graceTimer: NodeJS.Timeout | undefined;
  private readonly graceExpired = new AbortController();
  private firstError: unknown;
  private ended = false;

  constructor(options: SessionOptions) {
    this.writer = options.writer;
    this.log = options.log;
    this.bindingCount = options.bindingCount;
    this.spoolBudget = new SpoolBudget(options.spoolMemoryBytes);
    this.prefixes = new Array<Buffer>(options.bindingCount);
    this.gracefulStopMs = options.gracefulStopMs;
    this.ledger = options.explicitAcknowledgements ? new AckLedger() : undefined;
    // Every task, sleep and request of the session waits on this one signal: hundreds of
    // listeners are the design, not a leak, and Node's warning past 10 would reach Flow's logs.
    setMaxListeners(0, this.controller.signal);
  }

  get stopping(): AbortSignal {
    return this.controller.signal;
  }

  capturedPrefixBytes(binding: number): Buffer {
    return (this.prefixes[binding] ??= Buffer.from(capturedPrefix(binding), "latin1"));
  }

  track(name: string, run: Promise<void>): Promise<void> {
    const tracked = run.catch((error: unknown) => {
      if (error instanceof StoppedError && this.stopping.aborted) {
        this.log.debug(`task ${name} stopped`, { reason: error.message });
        return;
      }
      this.fail(error);
      throw error;
    });
    this.running.add(tracked);
    tracked.then(
      () => this.running.delete(tracked),
      () => this.running.delete(tracked),
    );
    return tracked;
  }

  /** Passes on Flow's acknowledgement of `count` checkpoints. */
  acknowledge(count: number): void {
    if (!this.ledger) {
      // Flow sends acknowledgements only when asked; tolerate stray ones rather than fail a capture.
      this.log.debug("ignoring acknowledge: this session did not ask for explicit acknowledgements", { checkpoints: count });
      return;
    }
    this.ledger.acknowledge(count);
  }

  /** Tells every task to stop at its next checkpoint, and starts the grace period. */
  stop(reason: string): void {
    if (this.controller.signal.aborted || this.ended) return;
    this.log.debug("capture stopping", { reason, gracefulStopMs: this.gracefulStopMs });
    this.controller.abort(new StoppedError(reason));
    // No acknowledgement can arrive once stdin is gone: checkpoints waiting for one give up.
    this.ledger?.fail(new StoppedError(reason));
    this.graceTimer = setTimeout(() => {
      this.log.warn(`tasks did not stop within ${this.gracefulStopMs} ms; ending the session anyway (what they captured after their last checkpoint is not committed)`);
      this.graceExpired.abort();
    }, this.gracefulStopMs);
  }

  private fail(error: unknown): void {
    if (this.firstError === undefined) this.firstError = error;
    this.stop("a capture task failed");
  }

  /**
   * Runs the session's capture to its end. Resolves when it finished or stopped cleanly;
   * rejects with the first task error.
   */
  async run(session: OpenedCapture): Promise<void> {
    const root = new Task("capture", this.log, this);
    this.track(
      "capture",
      (async () => {
        try {
          await session.capture(root);
        } finally {
          root.close();
        }
      })(),
    ).catch(() => {}); // reported through firstError
    const expired = aborted(this.graceExpired.signal);
    while (this.running.size > 0 && !this.graceExpired.signal.aborted) {
      await Promise.race([Promise.allSettled([...this.running]), expired]);
    }
    try {
      // Let what was written reach Flow, within the grace period of a stop (now, or one that
      // comes while waiting); nothing is written after this.
      await this.writer.close(this.graceExpired.signal, this.gracefulStopMs);
    } catch (error) {
      // A task's failure, if any, is what the task's error must say; the stall is told beside it.
      if (this.firstError === undefined) throw error;
      this.log.warn((error as Error).message);
    } finally {
      this.ended = true;
      clearTimeout(this.graceTimer);
      this.spoolBudget.close();
      this.ledger?.fail(new StoppedError("session ended"));
    }
    if (this.firstError !== undefined) throw this.firstError;
  }
}
