import { builtin } from "../util/builtin.js";
import { parsePointer } from "../util/jsonPointer.js";
import { compareComparable, comparableOf, type Comparable, type CursorKind } from "./cursor.js";

/**
 * How many documents at the cursor boundary an incremental task remembers to drop when an
 * inclusive poll returns them again. Past it, the oldest are forgotten: that can only re-send a
 * document (at-least-once), never lose one. Each costs about 30 bytes of state.
 */
export const MAX_BOUNDARY_DOCUMENTS = 1000;

/** What the state keeps of one document at the boundary: its digest and its cursor value. */
export type SeenEntry = [digest: string, value: Comparable];

let createHash: typeof import("node:crypto").createHash | undefined;

/** A short digest of a document's JSON (96 bits): enough to tell versions apart, small in state. */
export function digestOf(json: string): string {
  createHash ??= builtin<typeof import("node:crypto")>("node:crypto").createHash;
  return createHash("sha256").update(json).digest("base64url").slice(0, 16);
}

/**
 * The inclusive-cursor boundary of one incremental task. APIs filter "changed since" inclusively
 * (`updated_at >= cursor`), which is the only way not to lose documents that share the cursor's
 * value but arrive after a poll; so each poll returns again the documents at the cursor value
 * (and, with a lookback window, everything in the window). This remembers the digests of the
 * documents already sent at or after `cursor - lookback`, drops the ones a poll returns
 * unchanged, and lets new documents and new versions through.
 *
 * Only documents whose cursor value falls among the remembered ones are digested, and only the
 * documents at the newest values are kept as candidates, so the record path stays cheap.
 */
export class Boundary {
  private seen = new Map<string, Comparable>();
  private seenMin: Comparable | undefined;
  private seenMax: Comparable | undefined;
  /**
   * Documents sent since the last checkpoint that may end up at the new boundary, as parallel
   * arrays reused from checkpoint to checkpoint (the record path allocates nothing per document).
   */
  private candidateDocs: object[] = [];
  private candidateValues: Comparable[] = [];
  private candidateDigests: (string | undefined)[] = [];
  /** How many of the candidate arrays' entries are live (the arrays are never shrunk). */
  private candidateCount = 0;
  private candidateMax: Comparable | undefined;
  private readonly paths: string[][];
  /** The digest computed by the last isDuplicate() call, for the note() that follows it. */
  private lastDigest: string | undefined;

  constructor(
    /** Where a document's cursor value is: one pointer, or one per element of a tuple cursor. */
    private readonly cursorFields: readonly string[],
    private readonly kind: CursorKind,
    /** How far below the newest value documents stay remembered (0: the value itself only). */
    private readonly lookback: number,
    entries: readonly SeenEntry[] = [],
  ) {
    this.paths = cursorFields.map((f) => parsePointer(f));
    for (const [digest, value] of entries) this.seen.set(digest, value);
    this.bounds();
  }

  /** The cursor value of a document, if it has a readable one. */
  valueOf(doc: object): Comparable | undefined {
    const paths = this.paths;
    if (paths.length === 1) {
      const value = at(doc, paths[0]!);
      // The common case, inline: a number cursor read from a number.
      return typeof value === "number" && this.kind === "number" ? value : comparableOf(value, this.kind);
    }
    return comparableOf(
      paths.map((p) => at(doc, p)),
      this.kind,
    );
  }

  /** Whether `doc`, whose cursor value is `value`, was sent before (unchanged). */
  isDuplicate(doc: object, value: Comparable | undefined): boolean {
    this.lastDigest = undefined;
    const min = this.seenMin;
    if (value === undefined || min === undefined) return false;
    const max = this.seenMax!;
    if (typeof value === "number" && typeof min === "number") {
      if (value < min || value > (max as number)) return false;
    } else if (compareComparable(value, min) < 0 || compareComparable(value, max) > 0) return false;
    const digest = (this.lastDigest = digestOf(JSON.stringify(doc)));
    return this.seen.has(digest);
  }

  /** Records a document that was sent (call right after isDuplicate() returned false). */
  note(doc: object, value: Comparable | undefined): void {
    if (value === undefined) return;
    const digest = this.lastDigest;
    this.lastDigest = undefined;
    const max = this.candidateMax;
    const newer = max === undefined || (typeof value === "number" && typeof max === "number" ? value > max : compareComparable(value, max) > 0);
    if (newer) {
      this.candidateMax = value;
      if (this.lookback === 0) this.clearCandidates();
      else if (this.candidateCount >= 2 * MAX_BOUNDARY_DOCUMENTS) this.prune();
    } else if (this.lookback === 0 ? value !== max && compareComparable(value, max) < 0 : compareComparable(value, this.threshold(max)) < 0) {
      return;
    }
    const n = this.candidateCount;
    if (n < 2 * MAX_BOUNDARY_DOCUMENTS) {
      this.candidateDocs[n] = doc;
      this.candidateValues[n] = value;
      this.candidateDigests[n] = digest;
      this.candidateCount = n + 1;
    }
  }

  private clearCandidates(): void {
    this.candidateCount = 0;
  }

  /**
   * Moves the boundary to a committed cursor: remembers the documents at or after
   * `cursor - lookback` and forgets the rest. Returns the entries to store, or undefined when
   * they did not change.
   */
  commit(cursor: Comparable): SeenEntry[] | undefined {
    const threshold = this.threshold(cursor);
    let changed = false;
    for (const [digest, value] of this.seen) {
      if (compareComparable(value, threshold) < 0) {
        this.seen.delete(digest);
        changed = true;
      }
    }
    for (let i = 0; i < this.candidateCount; i++) {
      const value = this.candidateValues[i]!;
      if (compareComparable(value, threshold) < 0) continue;
      const digest = this.candidateDigests[i] ?? digestOf(JSON.stringify(this.candidateDocs[i]));
      if (!this.seen.has(digest)) {
        this.seen.set(digest, value);
        changed = true;
      }
    }
    this.clearCandidates();
    // Let the documents go: they are committed.
    this.candidateDocs.fill(undefined as unknown as object);
    this.candidateMax = undefined;
    if (this.seen.size > MAX_BOUNDARY_DOCUMENTS) {
      const newest = [...this.seen].sort((a, b) => compareComparable(b[1], a[1])).slice(0, MAX_BOUNDARY_DOCUMENTS);
      this.seen = new Map(newest);
      changed = true;
    }
    this.bounds();
    return changed ? [...this.seen] : undefined;
  }

  private threshold(value: Comparable): Comparable {
    return this.lookback > 0 && typeof value === "number" ? value - this.lookback : value;
  }

  private prune(): void {
    const threshold = this.threshold(this.candidateMax!);
    let kept = 0;
    for (let i = 0; i < this.candidateCount; i++) {
      if (compareComparable(this.candidateValues[i]!, threshold) < 0) continue;
      this.candidateDocs[kept] = this.candidateDocs[i]!;
      this.candidateValues[kept] = this.candidateValues[i]!;
      this.candidateDigests[kept] = this.candidateDigests[i];
      kept++;
    }
    this.candidateCount = kept;
  }

  private bounds(): void {
    this.seenMin = this.seenMax = undefined;
    for (const value of this.seen.values()) {
      if (this.seenMin === undefined || compareComparable(value, this.seenMin) < 0) this.seenMin = value;
      if (this.seenMax === undefined || compareComparable(value, this.seenMax) > 0) this.seenMax = value;
    }
  }
}

/** The value at a parsed JSON pointer (object properties and array indices). */
function at(doc: unknown, path: readonly string[]): unknown {
  let cur = doc;
  for (const token of path) {
    if (typeof cur !== "object" || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[token];
  }
  return cur;
}
