import type { Logger } from "../../runtime/index.js";

/**
 * Records of streams no binding captures, which a shim skips: the first of each stream is
 * warned about, and `report()` sums them up at the end, so none is dropped without a word.
 */
export class SkippedStreams {
  private readonly counts = new Map<string, number>();

  constructor(private readonly log: Logger) {}

  /** A record of `stream` was skipped. */
  add(stream: string): void {
    const seen = this.counts.get(stream) ?? 0;
    if (seen === 0) this.log.warn(`skipping records of stream ${JSON.stringify(stream)}: no binding captures it`);
    this.counts.set(stream, seen + 1);
  }

  /** Logs how many records of each stream were skipped. */
  report(): void {
    for (const [stream, count] of this.counts) this.log.info(`skipped ${count} record(s) of stream ${JSON.stringify(stream)}, which no binding captures`);
  }
}
