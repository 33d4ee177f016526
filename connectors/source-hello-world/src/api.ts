import type { Greeting } from "./models.js";

/** The "source" of this connector: greeting number `count`, produced at `now`. */
export function greeting(count: number, now: Date): Greeting {
  return { count, ts: now.toISOString(), message: `Hello #${count}` };
}

/** Largest batch written between two checkpoints at very high rates. */
export const MAX_BATCH = 10_000;

/**
 * How many greetings are due after `elapsedMs` at `rate` per second, given `sent` so far: the
 * capture keeps the rate over the whole session rather than per tick, so it does not drift.
 */
export function dueGreetings(rate: number, elapsedMs: number, sent: number): number {
  return Math.min(MAX_BATCH, Math.floor((elapsedMs * rate) / 1000) - sent);
}
