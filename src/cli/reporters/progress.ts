import type { Writable } from "node:stream";
import type { PreviewStats } from "../../host/index.js";
import { humanBytes } from "../../util/format.js";

/** The status line: totals, rate, and per-binding counts. */
export function progressLine(stats: PreviewStats, nowMs = Date.now()): string {
  const seconds = Math.max(0.001, (nowMs - stats.startedAtMs) / 1000);
  const per = [...stats.bindings.values()].map((b) => `${b.label} ${b.documents}`).join(", ");
  return `session ${stats.session} · ${stats.documents} docs (${Math.round(stats.documents / seconds)}/s) · ${humanBytes(stats.bytes)} · ${stats.checkpoints} checkpoints${per ? ` · ${per}` : ""}`;
}

/**
 * A live status line on stderr, redrawn at most every `intervalMs`, for TTYs only: when stderr is
 * not a terminal nothing extra is written.
 */
export class ProgressLine {
  private last = 0;
  private shown = false;
  private latest: PreviewStats | undefined;
  readonly enabled: boolean;

  constructor(
    private readonly stderr: Writable & { isTTY?: boolean; columns?: number },
    private readonly intervalMs = 200,
  ) {
    this.enabled = stderr.isTTY === true;
  }

  update(stats: PreviewStats): void {
    if (!this.enabled) return;
    this.latest = stats;
    const now = Date.now();
    if (now - this.last < this.intervalMs) return;
    this.last = now;
    this.draw();
  }

  private draw(): void {
    if (!this.latest) return;
    const width = this.stderr.columns ?? 120;
    const text = progressLine(this.latest);
    this.stderr.write(`\r\x1b[2K${text.length > width - 1 ? text.slice(0, width - 2) + "…" : text}`);
    this.shown = true;
  }

  /** Removes the line, so other output starts on a clean line. */
  clear(): void {
    if (this.shown) this.stderr.write("\r\x1b[2K");
    this.shown = false;
  }

  /** Leaves the final figures on screen. */
  finish(): void {
    if (!this.enabled || !this.latest) return;
    this.draw();
    this.stderr.write("\n");
    this.shown = false;
  }
}
