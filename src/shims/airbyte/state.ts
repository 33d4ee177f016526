import { gunzipSync } from "node:zlib";
import type { Logger } from "../../runtime/index.js";
import { isPlainObject, type JsonObject } from "../../util/mergePatch.js";
import { SlotState, type StateCheckpoint, type TrackedMap } from "../core/index.js";
import { BindingIndex } from "./bindings.js";
import type { AirbyteStateInput, AirbyteStateMessage, AirbyteStreamDescriptor, AirbyteStreamState } from "./types.js";

/**
 * How an Airbyte source's state is kept in Flow's connector state:
 *
 * ```
 * {
 *   "bindingStateV1": {
 *     "<stateKey>": {
 *       "stream": <the stream's stream_state (STREAM and GLOBAL state)>,
 *       "legacy": <the stream's entry of a LEGACY blob keyed by stream name>,
 *       "rowId":  <next _meta.row_id of an incremental stream>,
 *       "rows":   <row ids 0..rows-1 may exist in the collection of a snapshot stream>,
 *       "keys":   { "<key JSON>": <the refresh that last sent it> }   (keyed full-refresh streams),
 *       "refresh": <the number of the keyed full-refresh stream's refresh under way>,
 *       "keysDropped": true   (too many keys to track: see ../core/keyTracker.ts)
 *     }
 *   },
 *   "airbyte": {
 *     "kind":   "STREAM" | "GLOBAL" | "LEGACY",   (the form the source last used)
 *     "shared": <GLOBAL shared_state>,
 *     "legacy": <the rest of a LEGACY blob (keys that are no bound stream's name), or a blob that is not an object>
 *   }
 * }
 * ```
 *
 * Everything a stream owns lives under its binding's `stateKey`, so bumping a binding's backfill
 * counter (which changes its state key) restarts that stream alone, whatever the state's type.
 * Each checkpoint is an RFC 7396 merge patch of only what changed; when a value holds `null`s,
 * which a merge patch cannot carry, the checkpoint replaces the whole state instead.
 *
 * State written by Estuary's Python shim (`bindingStateV1[k] = {rowId, state: <STREAM message>}`)
 * is read too, so a task moves over without a backfill. So is state written by Estuary's Rust
 * shim, airbyte-to-flow, which keeps the source's own state at the top level (`state_to_checkpoint`
 * in its `airbyte_source_interceptor.rs`, estuary/airbyte 1465a983e627c51f6f10a398048aafcdc21ccc84):
 * a LEGACY `data` blob as it came, or STREAM states as `{"<stream>": <stream_state>}`. A state
 * with top-level keys and neither of flowcap's slots is read as that layout: as the LEGACY blob it
 * is, or, with `foreignForm: "per_stream"` (airbyte-to-flow's `AIRBYTE_TO_FLOW_STATE_FORMAT=per_stream`),
 * as each bound stream's STREAM state. A log line says so, and the first checkpoint replaces it
 * with flowcap's layout.
 */
export const BINDINGS_SLOT = "bindingStateV1";
export const GLOBAL_SLOT = "airbyte";

export type StateKind = "STREAM" | "GLOBAL" | "LEGACY";

interface BindingSlot {
  stream?: unknown;
  legacy?: unknown;
  rowId?: number;
  rows?: number;
  [key: string]: unknown;
}

interface GlobalSlot {
  kind?: StateKind;
  shared?: unknown;
  legacy?: unknown;
  [key: string]: unknown;
}

/** What the keeper needs of a binding. */
export interface StateBinding {
  stream: string;
  namespace?: string;
  stateKey: string;
  /** Its state is kept but not handed back: each read of it starts afresh (snapshot streams). */
  withheld?: boolean;
}

/** The state handed to a source's `read`. */
export interface StateInputFile {
  kind: StateKind;
  /** The content of the `--state` file. */
  value: AirbyteStateInput;
}

export interface StateKeeperOptions {
  /** Decode Faros-style `{"format":"base64/gzip","data":...}` LEGACY blobs (default true). */
  decodeCompressed?: boolean;
  /**
   * Hand LEGACY state back as the blob itself (`"blob"`, the default, which Faros and older
   * Python sources read) or as `[{"type":"LEGACY","data":blob}]` (`"message"`).
   */
  legacyForm?: "blob" | "message";
  /**
   * How a state in airbyte-to-flow's layout is read: as a LEGACY blob (the default, as that shim
   * handed it back) or as `{"<stream>": <stream_state>}` STREAM states (`per_stream`).
   */
  foreignForm?: "legacy" | "per_stream";
}


/**
 * Keeps an Airbyte source's state in Flow's connector state (layout above): turns the source's
 * STATE messages into checkpoints of what changed, and the stored state back into the
 * `--state` the source reads.
 */
export class AirbyteStateKeeper<B extends StateBinding = StateBinding> {
  private readonly index: BindingIndex<B>;
  /** State as committed and staged: other top-level keys, the binding slots, the global slot. */
  private readonly state: SlotState;

  /** The committed state came in airbyte-to-flow's layout: the next checkpoint replaces it whole. */
  private rewrite = false;

  constructor(
    flowState: unknown,
    private readonly bindings: readonly B[],
    private readonly log: Logger,
    private readonly options: StateKeeperOptions = {},
  ) {
    this.index = new BindingIndex(bindings);
    const foreign = isPlainObject(flowState) && Object.keys(flowState).length > 0 && !(BINDINGS_SLOT in flowState) && !(GLOBAL_SLOT in flowState);
    this.state = new SlotState(foreign ? {} : flowState, BINDINGS_SLOT, GLOBAL_SLOT);
    if (foreign) this.adoptForeign(flowState);
    else if (isPlainObject(flowState)) {
      const others = Object.keys(flowState).filter((k) => k !== BINDINGS_SLOT && k !== GLOBAL_SLOT);
      if (others.length) log.warn(`the state has top-level keys flowcap does not use (${others.slice(0, 5).map((k) => JSON.stringify(k)).join(", ")}${others.length > 5 ? ", ..." : ""}): keeping them as they are`);
    }
  }

  /** Reads a state in airbyte-to-flow's layout (see the module comment) as committed state. */
  private adoptForeign(flowState: JsonObject): void {
    const keys = Object.keys(flowState);
    const bound = new Set(this.bindings.map((b) => b.stream));
    const named = keys.filter((k) => bound.has(k));
    if (this.options.foreignForm === "per_stream") {
      for (const key of keys) {
        if (!bound.has(key)) continue;
        this.apply({ type: "STREAM", stream: { stream_descriptor: { name: key }, stream_state: flowState[key] } });
      }
      const dropped = keys.filter((k) => !bound.has(k));
      this.log.info(
        `picking up state in airbyte-to-flow's layout ({"<stream>": <stream_state>}, AIRBYTE_TO_FLOW_STATE_FORMAT=per_stream): ${named.length} bound stream(s) resume from it; the next checkpoint rewrites it in flowcap's layout`,
        { streams: named },
      );
      if (dropped.length) this.log.warn(`the airbyte-to-flow state has entries no binding captures, which are not kept: ${dropped.map((k) => JSON.stringify(k)).join(", ")}`);
    } else {
      this.apply({ type: "LEGACY", data: flowState });
      this.log.info(
        `picking up state in airbyte-to-flow's layout (the source's LEGACY state blob at the top level, ${keys.length} key(s), ${named.length} naming a bound stream): the source gets it back as it was; the next checkpoint rewrites it in flowcap's layout`,
        { keys: keys.slice(0, 20) },
      );
    }
    this.state.commit();
    this.rewrite = true;
  }

  /** The slot of a binding, with what is staged (empty when it has none). */
  slot(stateKey: string): Readonly<BindingSlot> {
    return this.state.slot(stateKey);
  }

  private get global(): GlobalSlot {
    return this.state.committedGlobal();
  }

  private committed(stateKey: string): BindingSlot | undefined {
    const slot = this.state.committed(stateKey);
    return Object.keys(slot).length ? slot : undefined;
  }

  /** The stream state of a binding, also from Estuary's shim layout. */
  private streamState(slot: BindingSlot): unknown {
    if (slot.stream !== undefined) return slot.stream;
    const legacyShim = slot.state;
    if (isPlainObject(legacyShim) && isPlainObject(legacyShim.stream)) return legacyShim.stream.stream_state ?? undefined;
    return undefined;
  }

  /** The form of the stored state: the one the source last wrote, else what is present. */
  private kind(): StateKind | undefined {
    if (this.global.kind === "STREAM" || this.global.kind === "GLOBAL" || this.global.kind === "LEGACY") return this.global.kind;
    if (this.global.shared !== undefined) return "GLOBAL";
    if (this.global.legacy !== undefined) return "LEGACY";
    for (const b of this.bindings) {
      const slot = this.committed(b.stateKey);
      if (slot && this.streamState(slot) !== undefined) return "STREAM";
      if (slot && slot.legacy !== undefined) return "LEGACY";
    }
    return undefined;
  }

  /**
   * The `--state` for the next read, built from the committed state of the current bindings,
   * or undefined when there is none. Withheld bindings' state is left out.
   */
  input(): StateInputFile | undefined {
    const kind = this.kind();
    const handed = this.bindings.filter((b) => !b.withheld);
    switch (kind) {
      case undefined:
        return undefined;
      case "STREAM": {
        const messages: AirbyteStateMessage[] = [];
        for (const b of handed) {
          const slot = this.committed(b.stateKey) ?? {};
          // A stream with no STREAM state yet but a share of an earlier LEGACY blob (a source that
          // moved from LEGACY to STREAM state, as Airbyte's CDK did) resumes from that share.
          const s = this.streamState(slot) ?? slot.legacy;
          if (s !== undefined && s !== null) messages.push({ type: "STREAM", stream: { stream_descriptor: descriptor(b), stream_state: s } });
        }
        return messages.length ? { kind, value: messages } : undefined;
      }
      case "GLOBAL": {
        const streamStates: AirbyteStreamState[] = [];
        for (const b of handed) {
          const s = this.streamState(this.committed(b.stateKey) ?? {});
          if (s !== undefined && s !== null) streamStates.push({ stream_descriptor: descriptor(b), stream_state: s });
        }
        const global: AirbyteStateMessage["global"] = { stream_states: streamStates };
        if (this.global.shared !== undefined) global.shared_state = this.global.shared;
        return { kind, value: [{ type: "GLOBAL", global }] };
      }
      case "LEGACY": {
        let blob: unknown = this.global.legacy;
        const shares = handed.filter((b) => this.committed(b.stateKey)?.legacy !== undefined);
        if (shares.length > 0 && (blob === undefined || isPlainObject(blob))) {
          const merged: JsonObject = { ...((blob as JsonObject | undefined) ?? {}) };
          for (const b of shares) merged[b.stream] = this.committed(b.stateKey)!.legacy;
          blob = merged;
        }
        if (blob === undefined) return undefined;
        return { kind, value: this.options.legacyForm === "message" ? [{ type: "LEGACY", data: blob }] : blob };
      }
    }
  }

  /**
   * Stages an Airbyte STATE message. Returns the descriptors of streams it names that no binding
   * captures (their state is not kept: no binding could hand it back).
   */
  apply(message: AirbyteStateMessage): AirbyteStreamDescriptor[] {
    const type = message.type ?? (message.stream ? "STREAM" : message.global ? "GLOBAL" : "LEGACY");
    const unknown: AirbyteStreamDescriptor[] = [];
    switch (type) {
      case "STREAM": {
        const entry = message.stream;
        if (!isPlainObject(entry) || !isPlainObject(entry.stream_descriptor) || typeof entry.stream_descriptor.name !== "string") {
          this.log.warn("ignoring a STREAM state without a stream descriptor", { state: message });
          return unknown;
        }
        const b = this.index.lookup(entry.stream_descriptor.name, entry.stream_descriptor.namespace);
        if (!b) {
          unknown.push(entry.stream_descriptor);
          break;
        }
        this.stage(b.stateKey, { stream: entry.stream_state ?? undefined, state: undefined });
        break;
      }
      case "GLOBAL": {
        const g = message.global;
        if (!isPlainObject(g)) {
          this.log.warn("ignoring a GLOBAL state without a global object", { state: message });
          return unknown;
        }
        const found = new Map<string, unknown>();
        for (const entry of Array.isArray(g.stream_states) ? g.stream_states : []) {
          if (!isPlainObject(entry) || !isPlainObject(entry.stream_descriptor)) continue;
          const d = entry.stream_descriptor as unknown as AirbyteStreamDescriptor;
          const b = typeof d.name === "string" ? this.index.lookup(d.name, d.namespace) : undefined;
          if (!b) unknown.push(d);
          else found.set(b.stateKey, entry.stream_state ?? undefined);
        }
        // A GLOBAL message is the whole state: a bound stream it does not list has none.
        for (const b of this.bindings) this.stage(b.stateKey, { stream: found.get(b.stateKey), state: undefined });
        this.stageGlobal({ kind: "GLOBAL", shared: g.shared_state ?? undefined });
        return unknown;
      }
      default: {
        // LEGACY (or an unknown type, treated as the opaque blob it most likely is).
        const data = this.decode(message.data);
        const names = new Map<string, B | null>();
        for (const b of this.bindings) names.set(b.stream, names.has(b.stream) ? null : b);
        if (isPlainObject(data)) {
          const rest: JsonObject = {};
          const shares = new Map<string, unknown>();
          for (const [key, value] of Object.entries(data)) {
            const b = names.get(key);
            if (b) shares.set(b.stateKey, value);
            else rest[key] = value;
          }
          for (const b of this.bindings) this.stage(b.stateKey, { legacy: shares.get(b.stateKey) });
          this.stageGlobal({ kind: "LEGACY", legacy: Object.keys(rest).length ? rest : undefined });
        } else {
          for (const b of this.bindings) this.stage(b.stateKey, { legacy: undefined });
          this.stageGlobal({ kind: "LEGACY", legacy: data ?? undefined });
        }
        return unknown;
      }
    }
    this.stageGlobal({ kind: "STREAM" });
    return unknown;
  }

  /**
   * Stages the removal of the source's own state of a binding (its stream state, its share of a
   * LEGACY blob, Estuary's shim layout), so the next read starts the stream afresh. The shim's
   * row bookkeeping stays.
   */
  forgetSourceState(stateKey: string): void {
    const slot = this.slot(stateKey);
    if (slot.stream !== undefined || slot.legacy !== undefined || slot.state !== undefined) this.stage(stateKey, { stream: undefined, legacy: undefined, state: undefined });
  }

  /** The map held in a field of a binding's slot, tracked entry by entry (a keyed full refresh's keys). */
  map(stateKey: string, field: string): TrackedMap {
    return this.state.map(stateKey, field);
  }

  /** Stages fields of a binding's slot (`undefined` removes a field). */
  stage(stateKey: string, fields: Partial<BindingSlot>): void {
    this.state.stage(stateKey, fields);
  }

  private stageGlobal(fields: Partial<GlobalSlot>): void {
    this.state.stageGlobal(fields);
  }

  /** The checkpoint of everything staged since the last one, which becomes committed. */
  commit(): StateCheckpoint {
    const checkpoint = this.state.commit();
    if (!this.rewrite) return checkpoint;
    this.rewrite = false;
    return { updated: this.state.whole(), mergePatch: false };
  }

  /** The whole committed state. */
  whole(): JsonObject {
    return this.state.whole();
  }

  /** A Faros-style compressed blob, decoded; anything else as it is. */
  private decode(data: unknown): unknown {
    if (this.options.decodeCompressed === false) return data;
    return decodeCompressedState(data, this.log);
  }
}

/**
 * Decodes the state `faros-airbyte-cdk` writes by default, `{"format":"base64/gzip","data":"H4sI..."}`,
 * into the JSON it compresses; any other value is returned as it is. Kept decoded in Flow's
 * state, it can be diffed into small merge patches and read by people; Faros sources accept it
 * back uncompressed.
 */
export function decodeCompressedState(data: unknown, log?: Logger): unknown {
  if (!isPlainObject(data) || data.format !== "base64/gzip" || typeof data.data !== "string" || Object.keys(data).length !== 2) return data;
  try {
    return JSON.parse(gunzipSync(Buffer.from(data.data, "base64")).toString("utf8"));
  } catch (error) {
    log?.warn("a state blob says it is base64/gzip but does not decode; keeping it as it is", { error: String(error) });
    return data;
  }
}

function descriptor(b: StateBinding): AirbyteStreamDescriptor {
  return b.namespace ? { name: b.stream, namespace: b.namespace } : { name: b.stream };
}
