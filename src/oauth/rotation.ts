import { backoffDelayMs } from "../sdk/index.js";
import { sleep } from "../util/abort.js";
import { StoppedError } from "../util/errors.js";
import { OAuthError } from "./errors.js";

/** Failed saves of rotated credentials before the task is failed. */
export const DEFAULT_ROTATION_SAVE_ATTEMPTS = 5;
/** The first wait between saves; it doubles (with jitter) up to the maximum. */
export const DEFAULT_ROTATION_SAVE_BASE_DELAY_MS = 1_000;
export const DEFAULT_ROTATION_SAVE_MAX_DELAY_MS = 30_000;

export interface RotationSaveOptions {
  /** Failed saves before the error becomes fatal (5). */
  attempts?: number;
  /** The wait after the first failure (1 s), doubling with each one up to `retryMaxDelayMs` (30 s). */
  retryBaseDelayMs?: number;
  retryMaxDelayMs?: number;
}

/** Saves rotated credentials one attempt at a time, spaced by a growing delay. */
export interface RotationSaver<C> {
  /**
   * Waits out the delay left from the last failure, then tries to save once. Rejects with an
   * OAuthError saying what happened (`OAUTH_REAUTHORIZE` once `gaveUp`), or a StoppedError if
   * `signal` fired while waiting.
   */
  attempt(credentials: C): Promise<void>;
  /** True once `attempts` saves in a row have failed. */
  readonly gaveUp: boolean;
}

/**
 * A provider that rotates the refresh token has already retired the old one, so the new one must
 * not be lost when saving it fails: the caller keeps it and calls `attempt` again later. Failures
 * are counted until a save works; after `attempts` of them each failure is reported as fatal, with
 * what the user must do, but nothing stops a caller that goes on from trying again.
 */
export function createRotationSaver<C>(
  save: (credentials: C) => Promise<void>,
  options: RotationSaveOptions & { now: () => number; signal?: AbortSignal },
): RotationSaver<C> {
  const max = Math.max(1, options.attempts ?? DEFAULT_ROTATION_SAVE_ATTEMPTS);
  const baseDelay = options.retryBaseDelayMs ?? DEFAULT_ROTATION_SAVE_BASE_DELAY_MS;
  const maxDelay = options.retryMaxDelayMs ?? DEFAULT_ROTATION_SAVE_MAX_DELAY_MS;
  let failures = 0;
  let nextAttemptAtMs = 0;

  return {
    get gaveUp() {
      return failures >= max;
    },
    async attempt(credentials) {
      const wait = nextAttemptAtMs - options.now();
      if (wait > 0 && !(await sleep(wait, options.signal))) throw new StoppedError("saving the rotated OAuth credentials cancelled");
      try {
        await save(credentials);
      } catch (error) {
        failures++;
        const delay = backoffDelayMs(failures, baseDelay, maxDelay);
        nextAttemptAtMs = options.now() + delay;
        throw saveError(error, failures, max, delay);
      }
      failures = 0;
      nextAttemptAtMs = 0;
    },
  };
}

function saveError(error: unknown, failures: number, max: number, delayMs: number): OAuthError {
  const reason = error instanceof Error ? error.message : String(error);
  if (failures >= max) {
    return new OAuthError(
      "OAUTH_REAUTHORIZE",
      `The provider rotated the OAuth refresh token, but saving the new one to the endpoint config failed ${failures} times (last: ${reason}). The old refresh token no longer works, so once this task restarts the capture must be re-authorized: sign in again from its OAuth button in Flow (or run \`flowcap oauth --write\` locally).`,
      { cause: error, data: { rotatedTokenSaved: false, attempts: failures } },
    );
  }
  return new OAuthError(
    "OAUTH_TOKEN",
    `the provider rotated the OAuth refresh token but saving the new one failed (attempt ${failures} of ${max}: ${reason}); it is kept for refreshes, and the new access token is held back until it is saved (next try in ${delayMs < 1000 ? `${delayMs} ms` : `${Math.round(delayMs / 1000)} s`})`,
    { cause: error, data: { rotatedTokenSaved: false, attempts: failures } },
  );
}
