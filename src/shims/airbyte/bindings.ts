import type { CaptureBinding } from "../../protocol/index.js";
import { stateKey as computeStateKey } from "../../protocol/index.js";
import { checkWithSchema } from "../../sdk/index.js";
import { ConfigError, type ConfigProblem } from "../../util/errors.js";
import { parsePointer } from "../../util/jsonPointer.js";
import { deepEqual, isPlainObject } from "../../util/mergePatch.js";
import { ROW_ID_KEY } from "../documents.js";
import type { AirbyteSyncMode, ConfiguredAirbyteCatalog, ConfiguredAirbyteStream } from "./types.js";

/**
 * The resource config of an Airbyte stream binding, exactly as Estuary's Airbyte shim declares it
 * (so existing Flow tasks validate unchanged): `{stream, syncMode, namespace?, cursorField?}`,
 * and `_meta`, which Flow's control plane may add.
 */
export const RESOURCE_CONFIG_SCHEMA = {
  title: "ResourceConfig",
  description: "ResourceConfig encodes a configured resource stream",
  type: "object",
  properties: {
    _meta: { title: "Meta", type: "object" },
    stream: { title: "Stream", description: "Name of this stream", type: "string" },
    syncMode: {
      title: "Sync Mode",
      description: "Sync this resource incrementally, or fully refresh it every run",
      enum: ["full_refresh", "incremental"],
      type: "string",
    },
    namespace: { title: "Namespace", description: "Enclosing schema namespace of this resource", type: "string" },
    cursorField: { title: "Cursor Field", type: "array", items: { type: "string" } },
  },
  required: ["stream", "syncMode"],
  additionalProperties: false,
} as const;

/** Resource paths are `[namespace, stream]`, or `[stream]` for a stream without a namespace. */
export const RESOURCE_PATH_POINTERS = ["/namespace", "/stream"];

export { ROW_ID_KEY } from "../documents.js";

export interface ResourceConfig {
  stream: string;
  syncMode: AirbyteSyncMode;
  namespace?: string;
  cursorField?: string[];
}

/** Checks a binding's resource config; returns it typed, or the problems found. */
export function checkResourceConfig(raw: unknown, where: string): { config?: ResourceConfig; problems: ConfigProblem[] } {
  const problems = checkWithSchema(RESOURCE_CONFIG_SCHEMA, raw, where);
  if (problems.length) return { problems };
  const r = raw as Record<string, unknown>;
  const config: ResourceConfig = { stream: r.stream as string, syncMode: r.syncMode as AirbyteSyncMode };
  // An empty namespace is no namespace (Estuary's shim never wrote one).
  if (typeof r.namespace === "string" && r.namespace !== "") config.namespace = r.namespace;
  if (Array.isArray(r.cursorField) && r.cursorField.length > 0) config.cursorField = r.cursorField as string[];
  return { config, problems: [] };
}

/** `[namespace, stream]`, or `[stream]`. */
export function resourcePathOf(config: { stream: string; namespace?: string }): string[] {
  return config.namespace ? [config.namespace, config.stream] : [config.stream];
}

/** A binding of an open capture, as the shim uses it. */
export interface ShimBinding extends ResourceConfig {
  /** The binding's index in the capture: the `binding` of its documents. */
  index: number;
  stateKey: string;
  /**
   * A full-refresh stream keyed by `/_meta/row_id`: each read is a complete refresh whose rows
   * are numbered from 0, and rows the previous refresh had beyond the new count are deleted.
   */
  snapshot: boolean;
  /**
   * A full-refresh stream with a key of its own: each complete refresh deletes the keys the
   * previous ones had and it did not send (its keys are tracked in the state).
   */
  keyedRefresh: boolean;
  /** The collection's key, as pointer tokens. */
  key: string[][];
  writeSchema: Record<string, unknown>;
}

/** Reads the bindings of an `open` request; a bad resource config fails with every problem named. */
export function shimBindings(bindings: readonly CaptureBinding[]): ShimBinding[] {
  const problems: ConfigProblem[] = [];
  const out: ShimBinding[] = [];
  bindings.forEach((binding, index) => {
    const { config, problems: p } = checkResourceConfig(binding.resourceConfig, `bindings[${index}].resourceConfig`);
    problems.push(...p);
    if (!config) return;
    const schema = binding.collection.writeSchema ?? binding.collection.readSchema;
    const key = binding.collection.key ?? [];
    const snapshot = config.syncMode === "full_refresh" && deepEqual(key, [ROW_ID_KEY]);
    out.push({
      ...config,
      index,
      stateKey: binding.stateKey || computeStateKey(binding.resourcePath?.length ? binding.resourcePath : resourcePathOf(config), binding.backfill ?? 0),
      snapshot,
      keyedRefresh: config.syncMode === "full_refresh" && !snapshot && key.length > 0,
      key: key.map((p) => parsePointer(p)),
      writeSchema: isPlainObject(schema) ? schema : {},
    });
  });
  if (problems.length) throw new ConfigError(problems, { subject: "bindings" });
  return out;
}

/**
 * The catalog `read` is given, built from the bindings alone (no discover): each stream's
 * `json_schema` is its collection's write schema, its only supported sync mode the binding's,
 * and its cursor the binding's `cursorField`. The destination mode is `append`: Flow reduces
 * documents by key itself.
 */
export function configuredCatalog(bindings: readonly ShimBinding[]): ConfiguredAirbyteCatalog {
  return {
    streams: bindings.map((b): ConfiguredAirbyteStream => {
      const stream: ConfiguredAirbyteStream["stream"] = {
        name: b.stream,
        json_schema: b.writeSchema,
        supported_sync_modes: [b.syncMode],
      };
      if (b.namespace) stream.namespace = b.namespace;
      if (b.cursorField) {
        stream.default_cursor_field = b.cursorField;
      }
      const configured: ConfiguredAirbyteStream = { stream, sync_mode: b.syncMode, destination_sync_mode: "append" };
      if (b.cursorField) configured.cursor_field = b.cursorField;
      return configured;
    }),
  };
}

/**
 * Finds the binding of a stream named in a record or a state. An exact `(namespace, stream)`
 * match wins; otherwise a record with a namespace matches a binding of that stream without one,
 * and a record without a namespace matches the only binding of that stream name (liberal in
 * what it accepts, since sources are not consistent about namespaces).
 */
export class BindingIndex<T extends { stream: string; namespace?: string }> {
  private readonly exact = new Map<string, T>();
  /** Lookups of a stream name without a namespace (the common case, kept to one Map.get). */
  private readonly byName = new Map<string, T | null>();

  constructor(items: readonly T[]) {
    const count = new Map<string, number>();
    for (const item of items) count.set(item.stream, (count.get(item.stream) ?? 0) + 1);
    for (const item of items) {
      this.exact.set(exactKey(item.stream, item.namespace), item);
    }
    for (const item of items) {
      if (!item.namespace) this.byName.set(item.stream, item);
      else if (!this.byName.has(item.stream)) this.byName.set(item.stream, count.get(item.stream) === 1 ? item : null);
    }
  }

  lookup(stream: string, namespace: string | null | undefined): T | undefined {
    if (!namespace) return this.byName.get(stream) ?? undefined;
    return this.exact.get(exactKey(stream, namespace)) ?? this.exact.get(exactKey(stream, undefined));
  }

  /** Lookup of a stream name without a namespace. */
  lookupName(stream: string): T | undefined {
    return this.byName.get(stream) ?? undefined;
  }
}

function exactKey(stream: string, namespace: string | null | undefined): string {
  return namespace ? `${namespace}\u0000${stream}` : stream;
}
