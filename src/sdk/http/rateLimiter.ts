import { sleep } from "../../util/abort.js";

/** The longest gap the limiter puts between two requests: 5 minutes, as Estuary's CDK caps it. */
export const MAX_RATE_LIMIT_INTERVAL_MS = 300_000;

export interface RateLimiterOptions {
  /** The gap between request starts to begin with; 0 (no limit until the API pushes back) by default. */
  initialIntervalMs?: number;
  /** The gap a first HTTP 429 sets when there was none: 50 ms by default. */
  minBackoffIntervalMs?: number;
  /** The cap on the gap: MAX_RATE_LIMIT_INTERVAL_MS by default. */
  maxIntervalMs?: number;
  /**
   * How much each success shrinks the gap (a fraction): 0.02 by default. A 429 doubles the gap,
   * so at equilibrium about one request in ln(2)/decay ≈ 35 is throttled: under 3 % 429s.
   */
  decay?: number;
  /** Called once when the gap first reaches its cap (a sign the API's quota is exhausted). */
  onMaxInterval?(intervalMs: number): void;
  /** The clock, for tests. */
  now?(): number;
}

/**
 * An adaptive limiter shared by every request of a client (or several clients): it spaces request
 * starts by an interval that doubles on each HTTP 429 and shrinks a little on each success, so a
 * connector settles just under the API's limit without knowing it. Unlike Estuary's CDK limiter
 * it starts at no delay and recovers after throttling stops, so an API that never throttles costs
 * nothing.
 */
export class RateLimiter {
  private intervalMs: number;
  private nextStartMs = 0;
  private warned = false;
  private readonly minBackoffMs: number;
  private readonly maxMs: number;
  private readonly decay: number;
  private readonly now: () => number;
  private readonly onMax: ((intervalMs: number) => void) | undefined;
  private throttled = 0;
  private total = 0;

  constructor(options: RateLimiterOptions = {}) {
    this.intervalMs = Math.max(0, options.initialIntervalMs ?? 0);
    this.minBackoffMs = options.minBackoffIntervalMs ?? 50;
    this.maxMs = options.maxIntervalMs ?? MAX_RATE_LIMIT_INTERVAL_MS;
    this.decay = options.decay ?? 0.02;
    this.now = options.now ?? Date.now;
    this.onMax = options.onMaxInterval;
  }

  /** The current gap between request starts, in milliseconds. */
  get currentIntervalMs(): number {
    return this.intervalMs;
  }

  /** Responses seen and how many of them were HTTP 429. */
  get stats(): { total: number; throttled: number } {
    return { total: this.total, throttled: this.throttled };
  }

  /**
   * Waits for this request's turn. Resolves `false` if `signal` aborted first. Turns are handed
   * out in call order, so concurrent callers are spaced, not released together.
   */
  async acquire(signal?: AbortSignal): Promise<boolean> {
    const now = this.now();
    const start = Math.max(now, this.nextStartMs);
    this.nextStartMs = start + this.intervalMs;
    return start > now ? sleep(start - now, signal) : !signal?.aborted;
  }

  /** Records a response: a 429 widens the gap, anything else narrows it. */
  record(status: number): void {
    this.total++;
    if (status === 429) {
      this.throttled++;
      this.intervalMs = Math.min(this.maxMs, Math.max(this.intervalMs * 2, this.minBackoffMs));
      // Turns already handed out were spaced by the old gap: the next one waits the new gap.
      this.nextStartMs = Math.max(this.nextStartMs, this.now() + this.intervalMs);
      if (this.intervalMs >= this.maxMs && !this.warned) {
        this.warned = true;
        this.onMax?.(this.intervalMs);
      }
    } else if (this.intervalMs > 0) {
      this.intervalMs *= 1 - this.decay;
      if (this.intervalMs < 1) this.intervalMs = 0;
    }
  }
}
