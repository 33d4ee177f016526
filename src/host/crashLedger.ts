import type { CaptureSpec } from "../protocol/index.js";
import { isPlainObject } from "../util/mergePatch.js";
import { documentId, type SessionCommit, type SessionDocument } from "./checkSession.js";
import { sortKeys } from "../util/sortKeys.js";

/**
 * What the crash check judges of a trial (sessions from an empty state, killed and resumed), given
 * only what the harness read. Two promises of at-least-once:
 *
 * - Nothing read is lost. A document whose whole `captured` line was read, in a session killed
 *   before a checkpoint after it was committed, is *owed*; it is *lost* unless a later session of
 *   the trial commits a document with the same collection key (that version or a later one: Flow
 *   reduces by key). Documents of snapshot collections are not judged: such a resource
 *   re-captures its source each session, and a key it no longer sends may have been deleted
 *   there. A document never written before the kill leaves no trace: such losses show only in
 *   trials whose kill lands after it was written.
 * - State never goes backwards. Each binding's state (`bindingStateV1[stateKey]`; the state
 *   outside `bindingStateV1` is judged as one more part) has a progression of committed values
 *   over a trial, from absent. A checkpoint committed by a resumed session goes backwards when it
 *   sets a part to a value the trial had left before that session opened (equal as canonical
 *   JSON) that holds a number or an RFC 3339 timestamp (a value of names and flags only, such as
 *   Singer's `currently_syncing`, marks a phase rather than a position), or drops a part the
 *   trial had committed (state lost); or, for a part whose only changing field is a number or a
 *   timestamp that only ever increased within sessions, when that field is lower than in the
 *   state the session opened with. Parts seen to return to an earlier value within one
 *   uninterrupted session (a backfill that starts over) are not judged; neither are the bindings
 *   of snapshot collections. The order of multi-field cursors and opaque tokens cannot be judged
 *   generically.
 */

/** One part of a capture's state, judged on its own. */
export interface StatePart {
  label: string;
  /** The binding's state key; none for the state outside `bindingStateV1`. */
  stateKey?: string;
  /** Its binding's collection. */
  collection?: string;
}

/** The parts of a capture's state: each binding's, and what is outside `bindingStateV1`. */
export function stateParts(spec: CaptureSpec): StatePart[] {
  const parts: StatePart[] = spec.bindings.map((b) => ({
    label: `the state of binding ${b.resourcePath?.join(".") || b.collection.name} (bindingStateV1.${b.stateKey})`,
    stateKey: b.stateKey,
    collection: b.collection.name,
  }));
  parts.push({ label: "the state outside bindingStateV1" });
  return parts;
}

function partValue(state: Record<string, unknown>, part: StatePart): unknown {
  if (part.stateKey === undefined) {
    const { bindingStateV1: _, ...rest } = state;
    return Object.keys(rest).length ? rest : undefined;
  }
  const bindings = state.bindingStateV1;
  return isPlainObject(bindings) ? bindings[part.stateKey] : undefined;
}

const ABSENT = "(absent)";
const canonical = (value: unknown) => (value === undefined ? ABSENT : JSON.stringify(sortKeys(value)));

/** A JSON excerpt for a report line. */
export function excerpt(text: string, max = 160): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** The scalar leaves of a value, by JSON pointer. */
function leaves(value: unknown, path = "", into = new Map<string, unknown>()): Map<string, unknown> {
  if (Array.isArray(value)) value.forEach((v, i) => leaves(v, `${path}/${i}`, into));
  else if (isPlainObject(value)) for (const [k, v] of Object.entries(value)) leaves(v, `${path}/${k.replace(/~/g, "~0").replace(/\//g, "~1")}`, into);
  else if (value !== undefined) into.set(path, value);
  return into;
}

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})$/;

/** A leaf as a position in an order: a number, or an RFC 3339 timestamp's instant. */
function ordinal(leaf: unknown): number | undefined {
  if (typeof leaf === "number" && Number.isFinite(leaf)) return leaf;
  if (typeof leaf === "string" && TIMESTAMP.test(leaf)) {
    const ms = Date.parse(leaf);
    return Number.isFinite(ms) ? ms : undefined;
  }
  return undefined;
}

/** Whether a value holds a number or a timestamp: something that can say how far a capture got. */
function hasPosition(value: unknown): boolean {
  return [...leaves(value).values()].some((leaf) => ordinal(leaf) !== undefined);
}

/** A finding of the crash check. */
export interface CrashFinding {
  /** `undecided`: owed documents not committed again before the time ran out. */
  kind: "lost" | "backwards" | "undecided";
  message: string;
}

/** Where an owed document was read. */
interface Owed extends SessionDocument {
  trial: number;
  session: number;
  killedAt: string;
}

interface PartTrack {
  /** Values the trial committed and left before the current session opened. */
  left: Set<string>;
  /** The value when the current session opened, and the values it committed since (repeats collapsed). */
  session: string[];
  openedWith: unknown;
  last: unknown;
}

/** The ledger of a crash check: owed documents and state progressions, across its trials. */
export class CrashLedger {
  private readonly parts: StatePart[];
  /** Parts seen to return to a value they left within one session: not judged. */
  private readonly cyclic = new Set<StatePart>();
  /** Per part, the one field seen to increase at every change within sessions (null: none). */
  private readonly cursors = new Map<StatePart, string | null>();
  private readonly progressed = new Set<StatePart>();
  private owed = new Map<string, Owed>();
  private tracks = new Map<StatePart, PartTrack>();
  private trial = 0;
  private session = 0;
  private resumedAfter = "";
  private judging = false;
  private backwards: CrashFinding | undefined;
  /** Documents owed after kills (once per key until committed again), over all trials, and how many were committed again. */
  readonly totals = { owed: 0, repaid: 0, notJudged: 0 };

  constructor(
    spec: CaptureSpec,
    private readonly snapshotCollections: ReadonlySet<string> = new Set(),
  ) {
    this.parts = stateParts(spec);
  }

  /** The parts whose state moved to a position in a trial and is judged: not cyclic, not of a snapshot collection. */
  get judgedParts(): StatePart[] {
    return this.parts.filter((p) => this.progressed.has(p) && !this.exempt(p));
  }

  /** Starts a trial; `judge` false for an uninterrupted session that only gathers evidence. */
  beginTrial(trial: number, judge = true): void {
    this.trial = trial;
    this.session = 0;
    this.owed = new Map();
    this.tracks = new Map();
    this.backwards = undefined;
    this.judging = judge;
  }

  /** Starts the trial's next session, opened with `state`; `resumedAfter` says how the one before it ended. */
  beginSession(state: Record<string, unknown>, resumedAfter = ""): void {
    this.session++;
    this.resumedAfter = resumedAfter;
    for (const part of this.parts) {
      const value = partValue(state, part);
      const track = this.tracks.get(part);
      if (!track) {
        this.tracks.set(part, { left: new Set(), session: [canonical(value)], openedWith: value, last: value });
        continue;
      }
      for (const v of track.session.slice(0, -1)) track.left.add(v);
      track.session = [canonical(value)];
      track.openedWith = value;
      track.last = value;
    }
  }

  /** A committed checkpoint: pays what its documents owed, and judges the state it leaves. */
  commit(commit: SessionCommit): void {
    for (const d of commit.documents) {
      if (this.owed.delete(documentId(d))) this.totals.repaid++;
    }
    for (const part of this.parts) {
      const track = this.tracks.get(part)!;
      const value = partValue(commit.state, part);
      const text = canonical(value);
      if (text === track.session.at(-1)) continue;
      if (track.session.includes(text)) this.cyclic.add(part);
      if (this.judging && this.session > 1 && !this.backwards && !this.exempt(part)) this.judge(part, track, value, text, commit.lineNumber);
      // Evidence of how the part moves comes from changes within a session only: the step from
      // the state a session opened with is what the judgement above is about.
      if (track.session.length > 1) this.learnCursor(part, track.last, value);
      if (this.judging && hasPosition(value)) this.progressed.add(part);
      track.session.push(text);
      track.last = value;
    }
  }

  /** Ends the session: the documents it read but did not commit are owed from now on. */
  endSession(uncommitted: SessionDocument[], killedAt: string): void {
    for (const d of uncommitted) {
      if (this.snapshotCollections.has(d.collection)) {
        this.totals.notJudged++;
        continue;
      }
      const id = documentId(d);
      if (this.owed.has(id)) continue;
      this.owed.set(id, { ...d, trial: this.trial, session: this.session, killedAt });
      this.totals.owed++;
    }
  }

  /** Owed documents not committed again yet. */
  get owing(): number {
    return this.owed.size;
  }

  /**
   * The trial's findings: state that went backwards, and the first owed document no later session
   * committed, with `after` saying what the sessions after the one that read it did instead.
   */
  endTrial(after: (session: number) => string): CrashFinding[] {
    const findings: CrashFinding[] = [];
    if (this.backwards) findings.push(this.backwards);
    const first = this.owed.values().next().value as Owed | undefined;
    if (first) {
      const more = this.owed.size > 1 ? ` (and ${this.owed.size - 1} more document(s) like it)` : "";
      findings.push({
        kind: "lost",
        message:
          `${first.collection} key ${first.key} was lost${more}: trial ${first.trial}, session ${first.session} wrote it at stdout line ${first.lineNumber} and was killed ` +
          `before committing it (${first.killedAt}); ${after(first.session)}`,
      });
    }
    return findings;
  }

  private exempt(part: StatePart): boolean {
    return this.cyclic.has(part) || (part.collection !== undefined && this.snapshotCollections.has(part.collection));
  }

  private judge(part: StatePart, track: PartTrack, value: unknown, text: string, lineNumber: number): void {
    const where = `trial ${this.trial}, session ${this.session} (resumed after session ${this.session - 1} ${this.resumedAfter}), stdout line ${lineNumber}`;
    const opened = canonical(track.openedWith);
    // A value with no number or timestamp in it (a stream name, a flag: Singer's
    // currently_syncing) marks a phase, not a position: coming back to it is not going back.
    if (track.left.has(text) && (value === undefined || hasPosition(value))) {
      const what =
        value === undefined
          ? `committed a state without ${part.label}, which the trial had committed before: state was lost`
          : `committed ${part.label} as ${excerpt(text)}, a value it had already moved past`;
      this.backwards = { kind: "backwards", message: `${where}: ${what} (it opened with ${excerpt(opened)}): state went backwards` };
      return;
    }
    const field = this.cursors.get(part);
    if (!field) return;
    const before = ordinal(leaves(track.openedWith).get(field));
    const now = ordinal(leaves(value).get(field));
    if (before !== undefined && now !== undefined && now < before) {
      const show = (v: unknown) => JSON.stringify(v);
      this.backwards = {
        kind: "backwards",
        message: `${where}: committed ${part.label} with ${field || "its value"} ${show(leaves(value).get(field))}, below the ${show(leaves(track.openedWith).get(field))} the session opened with (a field that only ever increased): state went backwards`,
      };
    }
  }

  /** Learns, from a change within a session, which one field of a part is an increasing cursor. */
  private learnCursor(part: StatePart, before: unknown, after: unknown): void {
    if (before === undefined || this.cursors.get(part) === null) return;
    const a = leaves(before);
    const b = leaves(after);
    const changed = [...new Set([...a.keys(), ...b.keys()])].filter((k) => a.get(k) !== b.get(k));
    const field = changed.length === 1 ? changed[0]! : undefined;
    const from = field !== undefined ? ordinal(a.get(field)) : undefined;
    const to = field !== undefined ? ordinal(b.get(field)) : undefined;
    const known = this.cursors.get(part);
    if (field === undefined || from === undefined || to === undefined || !(to > from) || (known !== undefined && known !== field)) this.cursors.set(part, null);
    else this.cursors.set(part, field);
  }
}
