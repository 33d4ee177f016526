import type { Logger } from "../runtime/index.js";

/** The status line is written at most this often, and only when it changed. */
export const STATUS_INTERVAL_MS = 1000;

/**
 * The capture's `connectorStatus` line, which Flow's UI shows for the task: "Backfilling N of M
 * bindings" while any binding backfills, then "Caught up: all M bindings are backfilled". Bindings
 * report their backfills; the line is written at most once a second, and only when it changed.
 */
export class CaptureStatus {
  private readonly backfilling = new Set<number>();
  private timer: NodeJS.Timeout | undefined;
  private lastWritten: string | undefined;
  private lastWrittenAtMs = 0;
  private closed = false;

  constructor(
    private readonly log: Logger,
    private readonly bindingCount: number,
  ) {}

  /**
   * Records whether the binding at `index` is backfilling. The line is written only once some
   * binding has reported (a connector of raw resources, which report nothing, writes none).
   */
  report(index: number, backfilling: boolean): void {
    if (backfilling) this.backfilling.add(index);
    else this.backfilling.delete(index);
    this.schedule();
  }

  /** The line as it stands. */
  get message(): string {
    const n = this.backfilling.size;
    const m = this.bindingCount;
    return n > 0 ? `Backfilling ${n} of ${m} binding${m === 1 ? "" : "s"}` : `Caught up: ${m === 1 ? "the binding is" : `all ${m} bindings are`} backfilled`;
  }

  /** Writes the line now if it changed. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.closed) return;
    const message = this.message;
    if (message === this.lastWritten) return;
    this.lastWritten = message;
    this.lastWrittenAtMs = Date.now();
    this.log.event.status(message, { backfilling: this.backfilling.size, bindings: this.bindingCount });
  }

  /** Writes a change still waiting for its turn, and stops (the session ended). */
  close(): void {
    if (this.timer) this.flush();
    this.closed = true;
  }

  /** The first line is written at once; a change is written within a second of the last line. */
  private schedule(): void {
    if (this.timer || this.closed) return;
    const waitMs = this.lastWrittenAtMs + STATUS_INTERVAL_MS - Date.now();
    if (waitMs <= 0) return this.flush();
    this.timer = setTimeout(() => this.flush(), waitMs);
    this.timer.unref?.();
  }
}
