import { isRateLimitedResponse, parseRateLimitHeaders, type HttpHeaders, type RateLimitInfo } from "./rateLimitHeaders.js";

/** The longest gap the limiter puts between two requests: 5 minutes, as Estuary's CDK caps it. */
export const MAX_RATE_LIMIT_INTERVAL_MS = 300_000;

/** How many recent request starts the limiter keeps to measure the rate actually sent. */
const RATE_SAMPLES = 16;

/**
 * When the API's quota headers say fewer than this fraction of the window's requests remain, the
 * limiter spreads the rest evenly over the time left instead of spending them at once.
 */
const PACE_BELOW_FRACTION = 0.1;

/** Options of a RateLimiter. */
export interface RateLimiterOptions {
  /** The gap between request starts to begin with; 0 (no limit until the API pushes back) by default. */
  initialIntervalMs?: number;
  /** The gap a first slowdown sets when the rate sent so far cannot be measured: 50 ms by default. */
  minBackoffIntervalMs?: number;
  /** The cap on the gap: MAX_RATE_LIMIT_INTERVAL_MS by default. */
  maxIntervalMs?: number;
  /**
   * The fraction of the rate kept after a slowdown: 0.7 by default (the rate drops by 30 %). One
   * slowdown per window: a 429 to a request sent before the last slowdown took effect reflects the
   * old rate and is not counted again.
   */
  backoffFactor?: number;
  /**
   * How much each success raises the rate (a fraction): 0.02 by default. Per success, so recovery
   * accelerates with the rate itself: from 14 req/s the limit lifts entirely in about
   * 1 / (0.02 × 14) ≈ 4 s once the API stops throttling.
   */
  increase?: number;
  /** The longest pause a `Retry-After` or a spent quota imposes: MAX_RATE_LIMIT_INTERVAL_MS by default. */
  maxPauseMs?: number;
  /**
   * Called when the API makes every request wait (a `Retry-After`, or its quota spent until the
   * reset), with the time requests resume; at most once per pause.
   */
  onPause?(untilMs: number, reason: "retry-after" | "quota"): void;
  /** Called once when the gap first reaches its cap (a sign the API's quota is exhausted). */
  onMaxInterval?(intervalMs: number): void;
  /** The clock, for tests. */
  now?(): number;
}

interface Waiter {
  resolve(turn: RateLimitTurn | undefined): void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/** A turn granted by RateLimiter.acquire: report the request's outcome through `complete`. */
export interface RateLimitTurn {
  /** When the request was allowed to start (the limiter's clock). */
  readonly startedAtMs: number;
  /**
   * Reports the response (status and headers) or, without one, a request that got no response
   * (a network error). Call it exactly once.
   */
  complete(response?: { status: number; headers?: HttpHeaders }): void;
}

/**
 * An adaptive limiter shared by every request of a client (or several clients). It spaces request
 * starts so a connector settles just under the API's limit without knowing it, and obeys what the
 * API says about its limit before it has to answer 429:
 *
 * - a throttled response (429, or a 403 with rate-limit headers) cuts the rate to
 *   `backoffFactor` × the rate actually sent, once per window however many concurrent requests
 *   were throttled together;
 * - each other response raises the rate by `increase`, so the limit lifts within seconds once the
 *   API stops throttling;
 * - `Retry-After` pauses every request sharing the limiter, not only the one that got it;
 * - `X-RateLimit-Remaining/Reset` and the IETF `RateLimit-*` headers pause the client when the
 *   window's requests (less those in flight) are spent, and spread the last tenth over the time left.
 *
 * Unlike Estuary's CDK limiter it starts at no delay, so an API that never throttles costs nothing.
 */
export class RateLimiter {
  private intervalMs: number;
  private lastStartMs = -Infinity;
  private readonly waiters: Waiter[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** No request starts before this (Retry-After, a spent quota). */
  private pausedUntilMs = 0;
  /** What the API's quota headers last said, less the requests released since: spent means wait for the reset. */
  private quota: { left: number; resetAtMs: number; limit: number | undefined } | undefined;
  private inFlight = 0;
  private readonly starts: number[] = [];
  private warned = false;
  private readonly minBackoffMs: number;
  private readonly maxMs: number;
  private readonly maxPauseMs: number;
  private readonly factor: number;
  private readonly increase: number;
  private readonly clock: () => number;
  private readonly onMax: ((intervalMs: number) => void) | undefined;
  private readonly onPause: ((untilMs: number, reason: "retry-after" | "quota") => void) | undefined;
  private throttled = 0;
  private total = 0;
  private slowdowns = 0;

  constructor(options: RateLimiterOptions = {}) {
    this.intervalMs = Math.max(0, options.initialIntervalMs ?? 0);
    this.minBackoffMs = options.minBackoffIntervalMs ?? 50;
    this.maxMs = options.maxIntervalMs ?? MAX_RATE_LIMIT_INTERVAL_MS;
    this.maxPauseMs = options.maxPauseMs ?? MAX_RATE_LIMIT_INTERVAL_MS;
    this.factor = Math.min(0.99, Math.max(0.01, options.backoffFactor ?? 0.7));
    this.increase = Math.max(0, options.increase ?? 0.02);
    this.clock = options.now ?? Date.now;
    this.onMax = options.onMaxInterval;
    this.onPause = options.onPause;
  }

  /** The limiter's clock (milliseconds). */
  now(): number {
    return this.clock();
  }

  /** The current adaptive gap between request starts, in milliseconds (0: no limit). */
  get currentIntervalMs(): number {
    return this.intervalMs;
  }

  /** Until when requests are paused (Retry-After, a spent quota); 0 or a past time when they are not. */
  get pausedUntil(): number {
    const q = this.quota;
    return q && q.left <= 0 && q.resetAtMs > this.clock() ? Math.max(this.pausedUntilMs, q.resetAtMs) : this.pausedUntilMs;
  }

  /** Responses seen, how many were throttled, and how many slowdowns they caused. */
  get stats(): { total: number; throttled: number; slowdowns: number } {
    return { total: this.total, throttled: this.throttled, slowdowns: this.slowdowns };
  }

  /**
   * Waits for this request's turn and returns it, or undefined if `signal` aborted first. Callers
   * are released one at a time in call order, each when the current gap since the previous start
   * has passed and no pause holds: a slowdown or a pause that comes while callers wait applies to
   * them at once.
   */
  acquire(signal?: AbortSignal): Promise<RateLimitTurn | undefined> {
    if (signal?.aborted) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const waiter: Waiter = { resolve, signal, onAbort: undefined };
      if (signal) {
        waiter.onAbort = () => {
          const at = this.waiters.indexOf(waiter);
          if (at !== -1) this.waiters.splice(at, 1);
          resolve(undefined);
          this.pump();
        };
        signal.addEventListener("abort", waiter.onAbort, { once: true });
      }
      this.waiters.push(waiter);
      this.pump();
    });
  }

  /** Releases the waiters that are due, and sets a timer for the next one. */
  private pump(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    while (this.waiters.length > 0) {
      const now = this.clock();
      let gap = this.intervalMs;
      let due = this.pausedUntilMs;
      const q = this.quota;
      if (q && now >= q.resetAtMs) this.quota = undefined;
      else if (q && q.left <= 0) due = Math.max(due, q.resetAtMs);
      else if (q && q.limit !== undefined && q.left < q.limit * PACE_BELOW_FRACTION) gap = Math.max(gap, (q.resetAtMs - now) / q.left);
      due = Math.max(due, this.lastStartMs + gap);
      if (due > now) {
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.pump();
        }, due - now);
        return;
      }
      const waiter = this.waiters.shift()!;
      if (waiter.onAbort) waiter.signal!.removeEventListener("abort", waiter.onAbort);
      this.lastStartMs = now;
      if (this.quota) this.quota.left--;
      waiter.resolve(this.startTurn(now));
    }
  }

  private startTurn(startedAtMs: number): RateLimitTurn {
    this.starts.push(startedAtMs);
    if (this.starts.length > RATE_SAMPLES) this.starts.shift();
    this.inFlight++;
    // The rate this request was sent at: its 429 is news only if no slowdown came since.
    const epoch = this.slowdowns;
    let done = false;
    return {
      startedAtMs,
      complete: (response) => {
        if (done) return;
        done = true;
        this.inFlight--;
        if (response) this.record(response.status, { headers: response.headers, epoch });
      },
    };
  }

  /**
   * Records a response. Prefer `acquire(...).complete(response)`, which knows under which rate the
   * request was scheduled (`epoch`, the number of slowdowns then); without it, every throttled
   * response counts as a slowdown of its own.
   */
  record(status: number, options: { headers?: HttpHeaders; epoch?: number } = {}): void {
    const now = this.clock();
    this.total++;
    const info = options.headers ? parseRateLimitHeaders(options.headers, now) : undefined;
    if (info) this.obey(info, status, now);
    const throttled = isRateLimitedResponse(status, options.headers ?? {}, info);
    if (throttled) {
      this.throttled++;
      // A request scheduled before the last slowdown reflects the old rate: already answered for.
      if (options.epoch === undefined || options.epoch === this.slowdowns) this.slowDown(now);
    } else if (status < 500 && this.intervalMs > 0) {
      // 5xx says nothing about the rate: neither faster nor slower.
      this.intervalMs /= 1 + this.increase;
      if (this.intervalMs < 1) this.intervalMs = 0;
    }
    this.pump();
  }

  /** The rate (requests per second) the recent starts show, or undefined with too few of them. */
  private sentRate(): number | undefined {
    if (this.starts.length < 4) return undefined;
    const span = this.starts[this.starts.length - 1]! - this.starts[0]!;
    return span > 0 ? ((this.starts.length - 1) * 1000) / span : undefined;
  }

  private slowDown(now: number): void {
    this.slowdowns++;
    const configured = this.intervalMs > 0 ? 1000 / this.intervalMs : Infinity;
    const sent = this.sentRate() ?? Infinity;
    const rate = Math.min(configured, sent);
    const next = Number.isFinite(rate) ? 1000 / (rate * this.factor) : this.minBackoffMs;
    this.intervalMs = Math.min(this.maxMs, Math.max(next, 1));
    if (this.intervalMs >= this.maxMs && !this.warned) {
      this.warned = true;
      this.onMax?.(this.intervalMs);
    }
  }

  /** Applies what the API said about its limit. */
  private obey(info: RateLimitInfo, status: number, now: number): void {
    if (info.retryAtMs !== undefined && status >= 400) {
      const before = this.pausedUntilMs;
      this.pauseUntil(info.retryAtMs);
      if (this.pausedUntilMs > Math.max(before, now)) this.onPause?.(this.pausedUntilMs, "retry-after");
    }
    const { remaining, resetAtMs } = info;
    if (remaining === undefined || resetAtMs === undefined || resetAtMs <= now) return;
    // Requests in flight may not be counted in this response's `remaining` yet.
    const left = remaining - this.inFlight;
    const resetCapped = Math.min(resetAtMs, now + this.maxPauseMs);
    const wasSpent = this.quota !== undefined && this.quota.left <= 0 && this.quota.resetAtMs > now;
    this.quota = { left, resetAtMs: resetCapped, limit: info.limit };
    if (left <= 0 && !wasSpent) this.onPause?.(resetCapped, "quota");
  }

  /** Holds every request until `untilMs` (at most maxPauseMs from now). */
  pauseUntil(untilMs: number): void {
    const capped = Math.min(untilMs, this.clock() + this.maxPauseMs);
    if (capped > this.pausedUntilMs) this.pausedUntilMs = capped;
    this.pump();
  }
}
