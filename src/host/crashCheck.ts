import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { CaptureSpec } from "../protocol/index.js";
import type { CheckContext, ConformanceCheck } from "./check.js";
import { CheckSkippedError } from "./checkErrors.js";
import { discardRest, killProcessGroup, readSession, withSession, type ReadSessionOptions, type SessionLine, type SessionRead } from "./checkSession.js";
import type { ConnectorProcess } from "./connectorProcess.js";
import { captureSpec } from "./requests.js";
import { CrashLedger, excerpt, type CrashFinding } from "./crashLedger.js";
import { describeKill, planTrials, type KillMoment, type KillMomentKind, type SessionShape, type TrialPlan } from "./crashPlan.js";

/** Trials the crash check runs unless told otherwise: each is one to two kills and a resume. */
export const DEFAULT_CRASH_TRIALS = 4;

/** Checkpoints the uninterrupted session commits before it is stopped: kills are drawn from what it wrote up to there. */
const REFERENCE_CHECKPOINTS = 6;

/**
 * The last session of a trial stops once nothing is owed and it committed a checkpoint, and gives
 * up on owed documents after this many checkpoints (or twice what the uninterrupted session
 * committed, if more): an at-least-once connector re-sends what it had not committed first.
 */
const MIN_REPAY_CHECKPOINTS = 12;

/**
 * How long a session may write nothing (after `opened`) before the check stops waiting for it: a
 * source that has caught up and polls slowly. Four times the longest wait for a line the
 * connector has shown (its start-up included), and at least 2 s. Only then do timings shape a
 * trial; a connector that keeps writing is killed where its plan says.
 */
function quietMs(longestGapMs: number, ctx: CheckContext): number {
  return Math.min(ctx.sessionTimeoutMs, Math.max(2_000, 4 * longestGapMs));
}

/** What the crash check's options resolve to. */
export interface CrashSettings {
  seed: number;
  trials: number;
}

/** What happened over the trials, for the report. */
interface Tally {
  /** Kills by moment: the planned kinds, and `quiet` or `timeout` for sessions killed before their kill point. */
  kills: Map<KillMomentKind | "quiet" | "timeout", number>;
  /** Kills whose connector left a partial line in its stdout. */
  cutLines: number;
  /** Killed sessions that ended by themselves before their kill point. */
  endedFirst: number;
}

/** How a session of a trial ended, for the next one's findings. */
interface TrialSessionEnd {
  read: SessionRead;
  /** "was killed right after opened", "ended by itself", ... */
  how: string;
}

/**
 * The crash check: SIGKILLs the connector (its whole process group) at seeded moments, resumes it
 * from the state reduced from committed checkpoints only, and judges at-least-once as the
 * CrashLedger defines it. Works on any connector: it sees only the protocol.
 */
export const crashCheck: ConformanceCheck = {
  id: "crash",
  title: "loses nothing when killed (SIGKILL) at random moments and resumed",
  needs: ["session"],
  async run(ctx) {
    if (!ctx.firstSession) throw new CheckSkippedError("needs the session check to pass");
    const scratch = await Scratch.create();
    try {
      return await crashTrials(ctx, scratch);
    } finally {
      await scratch.remove();
    }
  },
};

/**
 * Each session's TMPDIR: a fresh directory, as a restarted task gets a fresh container. A killed
 * connector cleans nothing up (a wrapped source's config files, say), so the check removes them.
 */
class Scratch {
  private sessions = 0;
  private constructor(private readonly root: string) {}

  static async create(): Promise<Scratch> {
    return new Scratch(await mkdtemp(path.join(tmpdir(), "flowcap-crash-")));
  }

  async next(): Promise<Record<string, string>> {
    const dir = path.join(this.root, `session-${++this.sessions}`);
    await mkdir(dir);
    return { TMPDIR: dir };
  }

  remove(): Promise<void> {
    return rm(this.root, { recursive: true, force: true });
  }
}

async function crashTrials(ctx: CheckContext, scratch: Scratch): Promise<string | { status: "fail" | "warn"; detail: string }> {
  const { seed, trials } = ctx.crash;
  const ledger = new CrashLedger(specOf(ctx), ctx.snapshotCollections);
  const reference = await referenceSession(ctx, ledger, await scratch.next());
  const { shape } = reference;
  if (shape.checkpoints === 0) throw new CheckSkippedError(`the uninterrupted session committed no checkpoint within ${ctx.sessionTimeoutMs / 1000}s: nothing to resume from`);
  const tally: Tally = { kills: new Map(), cutLines: 0, endedFirst: 0 };
  const replay = (trial: number) => `seed ${seed}, trial ${trial} of ${trials}: --seed ${seed} --trials ${trial} replays it`;
  for (const plan of planTrials(seed, trials, shape)) {
    let findings: CrashFinding[];
    try {
      findings = await runTrial(ctx, plan, reference, ledger, tally, scratch);
    } catch (error) {
      return { status: "fail", detail: `${(error as Error).message}\n(${replay(plan.trial)})` };
    }
    if (!findings.length) continue;
    // A lost document first: it is what a user must fix before anything else.
    const first = findings.find((f) => f.kind === "lost") ?? findings.find((f) => f.kind === "backwards") ?? findings[0]!;
    const others = findings.filter((f) => f !== first).map((f) => f.message);
    const status = findings.some((f) => f.kind !== "undecided") ? "fail" : "warn";
    return { status, detail: [first.message, ...others, `(${replay(plan.trial)})`].join("\n") };
  }
  return summary(seed, trials, tally, ledger);
}

/** The capture spec every session opens with (withSession builds the same); the ledger needs its state keys. */
function specOf(ctx: CheckContext): CaptureSpec {
  return captureSpec(ctx.catalog, ctx.capture, ctx.resourcePaths ?? []);
}

/** What the uninterrupted session showed: how many lines kills are drawn from, and how long the connector keeps quiet. */
interface Reference {
  shape: SessionShape;
  longestGapMs: number;
}

/** Runs one uninterrupted session from an empty state, for the range of kill moments and evidence of how the state moves. */
async function referenceSession(ctx: CheckContext, ledger: CrashLedger, env: Record<string, string>): Promise<Reference> {
  ledger.beginTrial(0, false);
  ledger.beginSession({});
  return withSession(
    ctx,
    {},
    async (proc, spec) => {
      const read = await readSession(
        proc,
        spec,
        {},
        {
          timeoutMs: ctx.sessionTimeoutMs,
          onCommit: (commit) => {
            ledger.commit(commit);
            return commit.ordinal >= REFERENCE_CHECKPOINTS;
          },
          quiet: { ms: (read) => quietMs(read.longestGapMs, ctx), stop: (read) => read.checkpoints > 0 },
        },
      );
      if (read.exited) await proc.finish();
      return { shape: { captured: read.captured, checkpoints: read.checkpoints }, longestGapMs: read.longestGapMs };
    },
    env,
  );
}

/** One trial: sessions from an empty state, each killed at its moment, then one that must commit again what was lost. */
async function runTrial(ctx: CheckContext, plan: TrialPlan, reference: Reference, ledger: CrashLedger, tally: Tally, scratch: Scratch): Promise<CrashFinding[]> {
  ledger.beginTrial(plan.trial);
  let state: Record<string, unknown> = {};
  const ends: TrialSessionEnd[] = [];
  for (const [i, kill] of [...plan.kills, undefined].entries()) {
    ledger.beginSession(state, ends.at(-1)?.how);
    const where = `trial ${plan.trial}, session ${i + 1}${i ? ` (resumed after session ${i} ${ends.at(-1)!.how})` : ""}`;
    let end: TrialSessionEnd;
    try {
      const env = await scratch.next();
      end = await withSession(ctx, state, (proc, spec) => (kill ? killedSession(ctx, proc, spec, state, kill, reference, ledger, tally) : lastSession(ctx, proc, spec, state, reference, ledger)), env);
    } catch (error) {
      throw new Error(`${where}: ${(error as Error).message}`, { cause: error });
    }
    ends.push(end);
    state = end.read.state;
  }
  const last = ends.at(-1)!.read;
  const findings = ledger.endTrial((session) => {
    const later = ends.slice(session);
    const checkpoints = later.reduce((n, e) => n + e.read.checkpoints, 0);
    return `the ${later.length} session(s) after it committed ${checkpoints} checkpoint(s) without it (the last ${ends.at(-1)!.how})`;
  });
  // Out of time before the connector could show whether it re-sends them: not a finding yet.
  if (last.timedOut && last.checkpoints < repayBound(reference.shape)) {
    return findings.map((f) =>
      f.kind !== "lost"
        ? f
        : {
            kind: "undecided",
            message: `trial ${plan.trial}: ${ledger.owing} document(s) uncommitted at a kill were not committed again within the session timeout (${ctx.sessionTimeoutMs / 1000}s), in which the last session committed only ${last.checkpoints} checkpoint(s): a longer --session-timeout lets the check decide (${f.message})`,
          },
    );
  }
  return findings;
}

const repayBound = (shape: SessionShape) => Math.max(MIN_REPAY_CHECKPOINTS, 2 * shape.checkpoints);

/** Whether the read stops at a line: where the kill moment is. */
function killPoint(kill: KillMoment, line: SessionLine): "after" | "before" | undefined {
  if (kill.at === "opened") return line.kind === "opened" ? "after" : undefined;
  if (kill.at === "mid-transaction") return line.kind === "captured" && line.ordinal === kill.captured ? "after" : undefined;
  if (line.kind !== "checkpoint" || line.ordinal !== kill.checkpoint) return undefined;
  return kill.at === "before-commit" ? "before" : "after";
}

/** The quiet rule of a trial's session: the connector's longest wait for a line, in the uninterrupted session or this one. */
function quietAfter(ctx: CheckContext, reference: Reference, stop: () => boolean): ReadSessionOptions["quiet"] {
  return { ms: (read) => quietMs(Math.max(reference.longestGapMs, read.longestGapMs), ctx), stop };
}

/** A session killed at its moment; what it read and did not commit is owed from then on. */
async function killedSession(
  ctx: CheckContext,
  proc: ConnectorProcess,
  spec: CaptureSpec,
  state: Record<string, unknown>,
  kill: KillMoment,
  reference: Reference,
  ledger: CrashLedger,
  tally: Tally,
): Promise<TrialSessionEnd> {
  const read = await readSession(proc, spec, state, {
    timeoutMs: ctx.sessionTimeoutMs,
    stopAt: (line) => killPoint(kill, line),
    onCommit: (c) => void ledger.commit(c),
    quiet: quietAfter(ctx, reference, () => true),
  });
  let how: string;
  if (read.exited) {
    // It ended before the kill point: judged as any session that ends (a clean exit, whole lines).
    await proc.finish();
    tally.endedFirst++;
    how = "ended by itself before its kill point";
  } else {
    killProcessGroup(proc);
    if (await discardRest(proc, ctx.stopGraceMs)) tally.cutLines++;
    const moment = read.timedOut ? "timeout" : read.quiet ? "quiet" : kill.at;
    tally.kills.set(moment, (tally.kills.get(moment) ?? 0) + 1);
    if (read.timedOut) how = `was killed at the session timeout (${ctx.sessionTimeoutMs / 1000}s), before its kill point`;
    else if (read.quiet) how = "was killed when it went quiet, before its kill point";
    else how = `was killed ${describeKill(kill)}`;
  }
  ledger.endSession(read.uncommitted, how.replace(/^was killed /, ""));
  return { read, how };
}

/** The trial's last session: runs until nothing is owed and it committed a checkpoint, or the repay bound. */
async function lastSession(ctx: CheckContext, proc: ConnectorProcess, spec: CaptureSpec, state: Record<string, unknown>, reference: Reference, ledger: CrashLedger): Promise<TrialSessionEnd> {
  const bound = repayBound(reference.shape);
  const read = await readSession(proc, spec, state, {
    timeoutMs: ctx.sessionTimeoutMs,
    onCommit: (commit) => {
      ledger.commit(commit);
      return ledger.owing === 0 || commit.ordinal >= bound;
    },
    // Caught up with nothing owed: there is nothing more to judge until its next poll.
    quiet: quietAfter(ctx, reference, () => ledger.owing === 0),
  });
  if (read.exited) {
    await proc.finish();
    return { read, how: `ran to its end after ${read.checkpoints} checkpoint(s)` };
  }
  killProcessGroup(proc);
  await discardRest(proc, ctx.stopGraceMs);
  if (read.timedOut) return { read, how: `reached the session timeout (${ctx.sessionTimeoutMs / 1000}s)` };
  if (read.quiet) return { read, how: "went quiet with nothing owed" };
  return { read, how: ledger.owing === 0 ? "committed everything owed" : `was stopped after ${read.checkpoints} checkpoint(s)` };
}

const MOMENT_NAMES: Record<KillMomentKind | "quiet" | "timeout", string> = {
  "mid-transaction": "mid-transaction",
  "before-commit": "between a checkpoint's documents and its state",
  "after-commit": "right after a commit",
  opened: "right after opened",
  quiet: "when it went quiet before its kill point",
  timeout: "at the session timeout before its kill point",
};

function summary(seed: number, trials: number, tally: Tally, ledger: CrashLedger): string {
  const kills = [...tally.kills.values()].reduce((a, b) => a + b, 0);
  const moments = [...tally.kills].map(([moment, n]) => `${n} ${MOMENT_NAMES[moment]}`).join(", ");
  let first = `${trials} trial(s) (seed ${seed}), ${kills} kill(s)${moments ? `: ${moments}` : ""}`;
  if (tally.endedFirst) first += `; ${tally.endedFirst} session(s) ended by themselves before their kill point`;
  const { owed, repaid, notJudged } = ledger.totals;
  const documents = `${owed} document(s) read but uncommitted at a kill, ${owed === repaid ? "all" : `${repaid}`} committed again after resuming${notJudged ? ` (${notJudged} of snapshot collections not judged)` : ""}; no partial line counted${tally.cutLines ? ` (${tally.cutLines} kill(s) cut one short)` : ""}`;
  const parts = ledger.judgedParts;
  const state = parts.length
    ? `state never went backwards: ${parts.map((p) => p.label).join(", ")}`
    : "no state moved in a way that could be judged (a state that cycles within a session, or of a snapshot collection, is not judged)";
  return [first, documents, state].map((line) => excerpt(line, 400)).join("\n");
}
