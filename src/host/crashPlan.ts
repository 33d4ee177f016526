/**
 * Where the crash check kills a connector: moments named by protocol events as the harness reads
 * them (the n-th captured line, the n-th checkpoint line), drawn from a seed, so a plan is the
 * same on every run and on any machine, however fast the connector writes.
 */

/** A moment of a session at which the connector is killed (SIGKILL, its whole process group). */
export type KillMoment =
  /** Right after `opened` was read, before anything was captured. */
  | { at: "opened" }
  /** Right after the session's `captured`-th captured line: mid-transaction. */
  | { at: "mid-transaction"; captured: number }
  /** At the session's `checkpoint`-th checkpoint line, not committed: between a checkpoint's documents and its state. */
  | { at: "before-commit"; checkpoint: number }
  /** Right after the session's `checkpoint`-th checkpoint was committed (and acknowledged, when asked). */
  | { at: "after-commit"; checkpoint: number };

export type KillMomentKind = KillMoment["at"];

/** The kinds in the order plans cycle through them, so any four consecutive kills cover them all. */
export const KILL_MOMENT_KINDS: readonly KillMomentKind[] = ["mid-transaction", "before-commit", "after-commit", "opened"];

/** How a kill moment reads in a report. */
export function describeKill(moment: KillMoment): string {
  switch (moment.at) {
    case "opened":
      return "right after opened";
    case "mid-transaction":
      return `mid-transaction, after captured #${moment.captured}`;
    case "before-commit":
      return `between the documents and the state of checkpoint #${moment.checkpoint}`;
    case "after-commit":
      return `right after checkpoint #${moment.checkpoint} committed`;
  }
}

/** How many captured and checkpoint lines an uninterrupted session wrote: the range kills are drawn from. */
export interface SessionShape {
  captured: number;
  checkpoints: number;
}

/** One trial: sessions from an empty state, each but the last killed at its moment. */
export interface TrialPlan {
  trial: number;
  kills: KillMoment[];
}

/** Most kills (killed sessions) in one trial; each trial draws from 1 to this many. */
export const MAX_KILLS_PER_TRIAL = 2;

/**
 * The trials for a seed. Kill moments cycle through the four kinds (from an offset drawn from the
 * seed); the line each lands on is drawn uniformly from what the uninterrupted session wrote.
 * Trial t of a plan does not depend on how many trials follow it, so `--trials t` with the same
 * seed replays a failing trial t.
 */
export function planTrials(seed: number, trials: number, shape: SessionShape): TrialPlan[] {
  const random = seededRandom(seed);
  const pick = (n: number) => Math.floor(random() * n);
  const kinds = KILL_MOMENT_KINDS.filter((k) => (k === "mid-transaction" ? shape.captured > 0 : k === "opened" || shape.checkpoints > 0));
  let next = pick(kinds.length);
  const plans: TrialPlan[] = [];
  for (let trial = 1; trial <= trials; trial++) {
    const kills: KillMoment[] = [];
    for (let count = 1 + pick(MAX_KILLS_PER_TRIAL); count > 0; count--) {
      const kind = kinds[next++ % kinds.length]!;
      if (kind === "opened") kills.push({ at: "opened" });
      else if (kind === "mid-transaction") kills.push({ at: kind, captured: 1 + pick(shape.captured) });
      else kills.push({ at: kind, checkpoint: 1 + pick(shape.checkpoints) });
    }
    plans.push({ trial, kills });
  }
  return plans;
}

/** A seeded 32-bit generator (mulberry32): uniform in [0, 1), the same sequence for the same seed everywhere. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
