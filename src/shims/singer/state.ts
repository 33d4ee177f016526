import type { Logger } from "../../runtime/index.js";
import { objectMembers, skipWs, LBRACE } from "../jsonBytes.js";
import { SlotState, type MapValue, type StateCheckpoint, type TrackedMap } from "../core/index.js";

/**
 * How a Singer tap's state is kept in Flow's connector state:
 *
 * ```
 * {
 *   "bindingStateV1": {
 *     "<stateKey>": {
 *       "bookmark": "<the JSON text of the tap's bookmarks[<tap_stream_id>]>",
 *       "bookmarkName": "<the name the bookmark was under, when not the tap_stream_id>",
 *       "rowId":  <next _meta.row_id>,
 *       "rows":   <rows-mode streams: row ids 0..rows-1 may be in the collection>,
 *       "rowsVersion": <rows-mode streams: the version the current row ids belong to>,
 *       "keys":   { "<key JSON>": <version of the row, or -1 until a version is activated> },
 *       "keysDropped": true   (too many keys to track: see the session)
 *     }
 *   },
 *   "singer": {
 *     "rest":  "<the JSON text of the tap's state without its bookmarks>",
 *     "value": "<the JSON text of a state that has no bookmarks object>"
 *   }
 * }
 * ```
 *
 * The tap's state is kept as the JSON text it wrote, never parsed into numbers: a bookmark of a
 * 19-digit id or offset comes back to the tap exactly, and values with `null`s (which a merge
 * patch cannot carry) still checkpoint as small patches. When the state follows Singer's
 * convention, `{"bookmarks": {<tap_stream_id>: ...}, ...}`, each bound stream's bookmark lives
 * under its binding's `stateKey`, so bumping a binding's backfill counter restarts that stream
 * alone; bookmarks of streams no binding captures are not kept. Any other state is kept whole.
 */
export const BINDINGS_SLOT = "bindingStateV1";
export const GLOBAL_SLOT = "singer";

/** What the keeper needs of a binding. */
export interface SingerStateBinding {
  /** The stream's `tap_stream_id`, which names its bookmark. */
  stream: string;
  stateKey: string;
  /** Other names the tap may use for the stream's bookmark. */
  names?: readonly string[];
}

/** See the layout above. */
export class SingerStateKeeper {
  private readonly state: SlotState;
  private readonly byName = new Map<string, SingerStateBinding>();

  constructor(
    flowState: unknown,
    private readonly bindings: readonly SingerStateBinding[],
    private readonly log: Logger,
  ) {
    this.state = new SlotState(flowState, BINDINGS_SLOT, GLOBAL_SLOT);
    for (const b of bindings) this.byName.set(b.stream, b);
    for (const b of bindings) for (const n of b.names ?? []) if (!this.byName.has(n)) this.byName.set(n, b);
  }

  /** A binding's slot, with what is staged. */
  slot(stateKey: string): Readonly<Record<string, unknown>> {
    return this.state.slot(stateKey);
  }

  /** Stages fields of a binding's slot (`undefined` removes one). */
  stage(stateKey: string, fields: Record<string, unknown>): void {
    this.state.stage(stateKey, fields);
  }

  /** The map held in a field of a binding's slot, tracked entry by entry. */
  map(stateKey: string, field: string): TrackedMap {
    return this.state.map(stateKey, field);
  }

  /**
   * The JSON text of the `--state` file for the next sync, built from the committed state of
   * the current bindings; undefined when there is none.
   */
  input(): string | undefined {
    const global = this.state.committedGlobal();
    if (typeof global.value === "string") return global.value;
    const bookmarks: string[] = [];
    for (const b of this.bindings) {
      const { bookmark, bookmarkName } = this.state.committed(b.stateKey);
      if (typeof bookmark === "string") bookmarks.push(`${JSON.stringify(typeof bookmarkName === "string" ? bookmarkName : b.stream)}:${bookmark}`);
    }
    const rest = typeof global.rest === "string" ? global.rest : undefined;
    if (rest === undefined && bookmarks.length === 0) return undefined;
    const members = rest === undefined ? "" : rest.slice(rest.indexOf("{") + 1, rest.lastIndexOf("}")).trim();
    return `{${members}${members ? "," : ""}"bookmarks":{${bookmarks.join(",")}}}`;
  }

  /**
   * Stages a STATE message's `value`, given as its JSON text `line[start, end)`. Returns the
   * bookmark names no binding captures (their bookmarks are not kept).
   */
  apply(line: Buffer, start: number, end: number): string[] {
    const text = line.toString("utf8", start, end);
    const parsed = line[skipWs(line, start)] === LBRACE ? objectMembers(line, start) : undefined;
    const bookmarksMember = parsed?.members.filter((m) => m.key === "bookmarks").at(-1);
    const bookmarks = bookmarksMember && line[bookmarksMember.valueStart] === LBRACE ? objectMembers(line, bookmarksMember.valueStart) : undefined;
    if (!parsed || !bookmarksMember || !bookmarks) {
      // Not Singer's convention: kept whole.
      for (const b of this.bindings) this.stage(b.stateKey, { bookmark: undefined, bookmarkName: undefined });
      this.state.stageGlobal({ value: text, rest: undefined });
      return [];
    }
    const found = new Map<string, { name: string; text: string }>();
    const unknown: string[] = [];
    for (const m of bookmarks.members) {
      const b = this.byName.get(m.key);
      // The tap's own id wins over another name it may also have written.
      if (b && !(found.has(b.stateKey) && m.key !== b.stream)) found.set(b.stateKey, { name: m.key, text: line.toString("utf8", m.valueStart, m.valueEnd) });
      else if (!b) unknown.push(m.key);
    }
    // The state is the whole state: a bound stream it does not list has no bookmark.
    for (const b of this.bindings) {
      const f = found.get(b.stateKey);
      this.stage(b.stateKey, { bookmark: f?.text, bookmarkName: f && f.name !== b.stream ? f.name : undefined });
    }
    const rest = parsed.members.filter((m) => m.key !== "bookmarks").map((m) => `${line.toString("utf8", m.keyStart, m.keyEnd)}:${line.toString("utf8", m.valueStart, m.valueEnd)}`);
    this.state.stageGlobal({ value: undefined, rest: rest.length ? `{${rest.join(",")}}` : undefined });
    if (unknown.length) this.log.debug(`not keeping the bookmarks of ${unknown.map((n) => JSON.stringify(n)).join(", ")}: no binding captures them`);
    return unknown;
  }

  /** The checkpoint of everything staged since the last one, which becomes committed. */
  commit(): StateCheckpoint {
    return this.state.commit();
  }
}

export type { MapValue, StateCheckpoint, TrackedMap };
