/**
 * The keys of a keyed stream's rows, kept in Flow's connector state so that a complete refresh
 * can delete the rows it no longer has: the Singer shim's versioned full-table streams
 * (ACTIVATE_VERSION) and the Airbyte shim's keyed full-refresh streams. Each key is stamped with
 * the version (or refresh) that last sent it; settling a version removes the keys of older ones,
 * which the shim then deletes (`_meta.op: "d"`).
 *
 * A record's key is read from its bytes (`keyJson`), never by parsing the record, and each key
 * is an entry of a `TrackedMap` in the binding's state slot, so a checkpoint carries only the
 * keys that changed. Tracking is bounded (`DEFAULT_MAX_TRACKED_KEYS`): past the bound a stream
 * stops tracking and its deletions stop, which its shim says.
 */
import type { TrackedMap } from "./slotState.js";
import { arrayItems, QUOTE, valueAt } from "../jsonBytes.js";

/**
 * How many keys a stream tracks before it stops. Each tracked key is an entry of Flow's
 * connector state, `"<key JSON>":<version>`: its key's JSON text (escaped) plus ~15 bytes with a
 * millisecond version, so 24 bytes for an integer id, 57 for a UUID, 72 for a key of two
 * strings; in memory the map takes 55, 134 and 230 bytes a key. Why not more: the state comes
 * whole in every `open`, and a source that writes its state only at its end checkpoints all its
 * keys in one message, which Flow refuses past 64 MB. At 1,000,000 keys that message is 57 MB
 * for UUIDs and 72 MB for composite keys (a task that fails at every run until the limit is
 * lowered), and the map alone takes 134-230 MB of a 1 GB container. At 500,000, common keys stay
 * near half the limit; past it a stream stops tracking (its deletions stop, with a warning), and
 * --max-tracked-keys raises it where keys are short.
 */
export const DEFAULT_MAX_TRACKED_KEYS = 500_000;

/** The version a key has until the version it belongs to is known (Singer records without a version). */
export const PENDING_VERSION = -1;

/** Where a tracker keeps its keys: a shim's state keeper. */
export interface KeyStore {
  /** The map held in a field of a binding's slot, tracked entry by entry. */
  map(stateKey: string, field: string): TrackedMap;
  /** Stages fields of a binding's slot (`undefined` removes one). */
  stage(stateKey: string, fields: Record<string, unknown>): void;
}

/** What `KeyTracker.see` did with a record. */
export type KeySeen = "tracked" | "keyless" | "dropped";

/**
 * The tracked keys of one binding, in its slot's `keys` field (`keysDropped: true` once it has
 * had more than `maxKeys`). Not tracking until `start()`.
 */
export class KeyTracker {
  private keys: TrackedMap | undefined;
  private droppedTracking: boolean;

  constructor(
    private readonly store: KeyStore,
    private readonly stateKey: string,
    /** The collection's key, as pointer tokens. */
    readonly key: readonly (readonly string[])[],
    private readonly maxKeys: number,
    /** The slot says tracking was dropped in an earlier run. */
    dropped: boolean,
  ) {
    this.droppedTracking = dropped;
  }

  /** Keys are being tracked. */
  get tracking(): boolean {
    return this.keys !== undefined;
  }

  /** Tracking was dropped: the stream had more keys than the bound. */
  get dropped(): boolean {
    return this.droppedTracking;
  }

  get size(): number {
    return this.keys?.size ?? 0;
  }

  /** Starts tracking, with the keys kept in the state. Does nothing once tracking was dropped. */
  start(): void {
    if (!this.keys && !this.droppedTracking) this.keys = this.store.map(this.stateKey, "keys");
  }

  /**
   * Stamps the key of the record `bytes[start, end)` with `version`. "keyless" when the record
   * lacks a key value (it cannot be deleted later); "dropped" when this key passed the bound:
   * tracking stops, the keys are cleared and `keysDropped` is staged.
   */
  see(bytes: Buffer, start: number, end: number, version: number): KeySeen {
    const keys = this.keys;
    if (!keys) return "tracked";
    const text = keyJson(bytes, start, end, this.key);
    if (text === undefined) return "keyless";
    keys.set(text, version);
    if (keys.size <= this.maxKeys) return "tracked";
    keys.clear();
    this.keys = undefined;
    this.droppedTracking = true;
    this.store.stage(this.stateKey, { keysDropped: true });
    return "dropped";
  }

  /**
   * `version` is complete: keys still pending take it, and keys of older versions are removed.
   * Returns the removed keys' JSON texts, for the caller to delete (see `deletionDocument`).
   */
  settle(version: number): string[] {
    const keys = this.keys;
    if (!keys) return [];
    const stale: string[] = [];
    const pending: string[] = [];
    for (const [key, v] of keys) {
      if (v === PENDING_VERSION) pending.push(key);
      else if ((v as number) < version) stale.push(key);
    }
    for (const key of pending) keys.set(key, version);
    for (const key of stale) keys.delete(key);
    return stale;
  }

  /** The deletion document of a key this tracker removed, with `metaJson` as its `_meta`. */
  deletionDocument(keyText: string, metaJson: string): string {
    return deletionDocument(this.key, keyText, metaJson);
  }
}

/**
 * The JSON text that identifies a record's key: the raw text of its one key value, or `[v1,v2]`
 * for a composite key. Strings written with escapes are normalized, so the same key always has
 * the same text; numbers keep their exact digits. Undefined when a key value is missing.
 */
export function keyJson(bytes: Buffer, start: number, end: number, key: readonly (readonly string[])[]): string | undefined {
  const parts: string[] = [];
  for (const tokens of key) {
    const at = valueAt(bytes, start, end, tokens);
    if (!at) return undefined;
    let raw = bytes.toString("utf8", at[0], at[1]);
    if (bytes[at[0]] === QUOTE && raw.includes("\\")) raw = JSON.stringify(JSON.parse(raw));
    parts.push(raw);
  }
  return parts.length === 1 ? parts[0] : `[${parts.join(",")}]`;
}

/** A deletion document: the key's values at their pointers, and `_meta`. */
export function deletionDocument(key: readonly (readonly string[])[], keyText: string, metaJson: string): string {
  const values: string[] = [];
  if (key.length === 1) values.push(keyText);
  else {
    const buf = Buffer.from(keyText);
    for (const [s, e] of arrayItems(buf, 0) ?? []) values.push(buf.toString("utf8", s, e));
  }
  // A tree of the key's locations, written with the values' exact text.
  type Node = Map<string, Node | string>;
  const root: Node = new Map();
  key.forEach((tokens, i) => {
    let node = root;
    tokens.forEach((t, j) => {
      if (j === tokens.length - 1) node.set(t, values[i] ?? "null");
      else {
        let next = node.get(t);
        if (!(next instanceof Map)) node.set(t, (next = new Map()));
        node = next;
      }
    });
  });
  const write = (node: Node, extra = ""): string => `{${[...node].map(([k, v]) => `${JSON.stringify(k)}:${typeof v === "string" ? v : write(v)}`).join(",")}${extra}}`;
  return write(root, `${root.size ? "," : ""}"_meta":${metaJson}`);
}
