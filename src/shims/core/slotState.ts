/**
 * A shim's connector state as Flow stores it, changed in small steps and checkpointed as merge
 * patches of what changed:
 *
 * ```
 * {
 *   "<slotsKey>":  { "<stateKey>": { ...what the binding owns... } },
 *   "<globalKey>": { ...what the whole capture owns... },
 *   ...other top-level keys, kept as they are
 * }
 * ```
 *
 * Everything a binding owns lives under its `stateKey`, so bumping a binding's backfill counter
 * (which changes its state key) restarts that binding alone. Changes are staged, then `commit()`
 * turns them into one checkpoint: an RFC 7396 merge patch of only what changed or, when a value
 * holds `null`s (which a merge patch cannot carry), the whole state.
 *
 * A slot may also hold large maps of scalars (a full-table stream's keys, say) that change a few
 * entries at a time: `map()` tracks those entry by entry, so a checkpoint carries the changed
 * entries only, never the whole map.
 */
import { applyMergePatch, deepEqual, diffMergePatch, isPlainObject, type JsonObject } from "../../util/mergePatch.js";

/** A checkpoint's `updated` and whether it is a merge patch. */
export interface StateCheckpoint {
  updated: JsonObject;
  mergePatch: boolean;
}

/** A scalar a tracked map holds. */
export type MapValue = string | number | boolean;

/** A map field of a slot, changed entry by entry (see `SlotState.map`). */
export class TrackedMap {
  private readonly entries = new Map<string, MapValue>();
  /** Keys changed since the last commit (maybe repeated): their value now, or none when deleted. */
  private changed: string[] = [];

  constructor(stored: unknown) {
    if (isPlainObject(stored)) {
      for (const [k, v] of Object.entries(stored)) {
        if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") this.entries.set(k, v);
      }
    }
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: string): MapValue | undefined {
    return this.entries.get(key);
  }

  set(key: string, value: MapValue): void {
    if (this.entries.get(key) === value) return;
    this.entries.set(key, value);
    this.changed.push(key);
  }

  delete(key: string): void {
    if (!this.entries.delete(key)) return;
    this.changed.push(key);
  }

  /** Deletes every entry. */
  clear(): void {
    for (const key of this.entries.keys()) this.changed.push(key);
    this.entries.clear();
  }

  /** The entries, in insertion order. */
  [Symbol.iterator](): IterableIterator<[string, MapValue]> {
    return this.entries.entries();
  }

  /** @internal The merge patch of the changes since the last call, or undefined. */
  takeChanges(): JsonObject | null | undefined {
    if (this.changed.length === 0) return undefined;
    let patch: JsonObject | null = null;
    if (this.entries.size > 0) {
      patch = {};
      for (const key of this.changed) patch[key] = this.entries.get(key) ?? null;
    }
    this.changed = [];
    return patch;
  }

  /** @internal */
  toJSON(): JsonObject {
    return Object.fromEntries(this.entries);
  }
}

/** See the module comment. */
export class SlotState {
  /** Top-level keys that are neither the slots nor the global slot: kept as they are. */
  private readonly others: JsonObject;
  private readonly slots = new Map<string, JsonObject>();
  private global: JsonObject;
  private readonly staged = new Map<string, JsonObject>();
  private stagedGlobal: JsonObject | undefined;
  /** Tracked maps by state key, then field. */
  private readonly maps = new Map<string, Map<string, TrackedMap>>();

  constructor(
    flowState: unknown,
    private readonly slotsKey: string,
    private readonly globalKey: string,
  ) {
    const state = isPlainObject(flowState) ? flowState : {};
    const { [slotsKey]: storedSlots, [globalKey]: storedGlobal, ...others } = state;
    this.others = others;
    if (isPlainObject(storedSlots)) {
      for (const [key, slot] of Object.entries(storedSlots)) {
        if (isPlainObject(slot)) this.slots.set(key, slot);
      }
    }
    this.global = isPlainObject(storedGlobal) ? storedGlobal : {};
  }

  /** A binding's slot, with what is staged (empty when it has none). Tracked map fields are not in it. */
  slot(stateKey: string): Readonly<JsonObject> {
    return this.staged.get(stateKey) ?? this.slots.get(stateKey) ?? {};
  }

  /** A binding's slot as last committed (empty when it has none). */
  committed(stateKey: string): Readonly<JsonObject> {
    return this.slots.get(stateKey) ?? {};
  }

  /** The global slot, with what is staged. */
  globalSlot(): Readonly<JsonObject> {
    return this.stagedGlobal ?? this.global;
  }

  /** The global slot as last committed. */
  committedGlobal(): Readonly<JsonObject> {
    return this.global;
  }

  /** Stages fields of a binding's slot (`undefined` removes a field). */
  stage(stateKey: string, fields: Record<string, unknown>): void {
    const slot: JsonObject = { ...(this.staged.get(stateKey) ?? this.slots.get(stateKey) ?? {}) };
    for (const [k, v] of Object.entries(fields)) {
      if (v === undefined) delete slot[k];
      else slot[k] = v;
    }
    this.staged.set(stateKey, slot);
  }

  /** Stages fields of the global slot (`undefined` removes a field). */
  stageGlobal(fields: Record<string, unknown>): void {
    const slot: JsonObject = { ...(this.stagedGlobal ?? this.global) };
    for (const [k, v] of Object.entries(fields)) {
      if (v === undefined) delete slot[k];
      else slot[k] = v;
    }
    this.stagedGlobal = slot;
  }

  /**
   * The map held in `field` of a binding's slot, tracked entry by entry from now on (the field
   * leaves the slot's other fields: do not `stage()` it).
   */
  map(stateKey: string, field: string): TrackedMap {
    let fields = this.maps.get(stateKey);
    if (!fields) this.maps.set(stateKey, (fields = new Map()));
    let map = fields.get(field);
    if (!map) {
      const committed = this.slots.get(stateKey);
      map = new TrackedMap(committed?.[field]);
      fields.set(field, map);
      if (committed && field in committed) {
        const { [field]: _taken, ...rest } = committed;
        this.slots.set(stateKey, rest);
      }
      const staged = this.staged.get(stateKey);
      if (staged && field in staged) {
        const { [field]: _taken, ...rest } = staged;
        this.staged.set(stateKey, rest);
      }
    }
    return map;
  }

  /** The checkpoint of everything staged since the last one, which becomes committed. */
  commit(): StateCheckpoint {
    const slotsPatch: JsonObject = {};
    let exact = true;
    for (const [key, slot] of this.staged) {
      const before = this.slots.get(key) ?? {};
      const patch = diffMergePatch(before, slot);
      if (patch === undefined) continue;
      slotsPatch[key] = this.slots.has(key) ? patch : slot;
      if (!deepEqual(applyMergePatch(this.slots.has(key) ? before : undefined, slotsPatch[key]), slot)) exact = false;
    }
    for (const [key, fields] of this.maps) {
      for (const [field, map] of fields) {
        const changes = map.takeChanges();
        if (changes === undefined) continue;
        // A copy: a new slot's patch is the staged slot object itself.
        slotsPatch[key] = { ...((slotsPatch[key] as JsonObject | undefined) ?? {}), [field]: changes };
        if (!this.slots.has(key) && !this.staged.has(key)) this.slots.set(key, {});
      }
    }
    let globalPatch: unknown;
    if (this.stagedGlobal) {
      globalPatch = diffMergePatch(this.global, this.stagedGlobal);
      if (globalPatch !== undefined && !deepEqual(applyMergePatch(this.global, globalPatch), this.stagedGlobal)) exact = false;
    }
    for (const [key, slot] of this.staged) this.slots.set(key, slot);
    if (this.stagedGlobal) this.global = this.stagedGlobal;
    this.staged.clear();
    this.stagedGlobal = undefined;

    if (!exact) return { updated: this.whole(), mergePatch: false };
    const updated: JsonObject = {};
    if (Object.keys(slotsPatch).length) updated[this.slotsKey] = slotsPatch;
    if (globalPatch !== undefined) updated[this.globalKey] = globalPatch;
    return { updated, mergePatch: true };
  }

  /** The whole committed state (tracked maps included). */
  whole(): JsonObject {
    const slots: JsonObject = {};
    for (const [key, slot] of this.slots) slots[key] = slot;
    for (const [key, fields] of this.maps) {
      for (const [field, map] of fields) {
        if (map.size === 0) continue;
        slots[key] = { ...((slots[key] as JsonObject | undefined) ?? {}), [field]: map.toJSON() };
      }
    }
    const out: JsonObject = { ...this.others, [this.slotsKey]: slots };
    if (Object.keys(this.global).length) out[this.globalKey] = this.global;
    return out;
  }
}
