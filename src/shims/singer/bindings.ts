import type { CaptureBinding } from "../../protocol/index.js";
import { stateKey as computeStateKey } from "../../protocol/index.js";
import { checkWithSchema } from "../../sdk/index.js";
import { ConfigError, type ConfigProblem } from "../../util/errors.js";
import { parsePointer } from "../../util/jsonPointer.js";
import { deepEqual, isPlainObject } from "../../util/mergePatch.js";
import { ROW_ID_KEY } from "../documents.js";
import { isIncremental, replicationMethodOf } from "./catalog.js";
import type { SingerReplicationMethod } from "./types.js";

/**
 * The resource config of a Singer stream binding: `stream` is the catalog entry's
 * `tap_stream_id`; `replication_method` and `replication_key`, when given, are what the sync
 * catalog asks of the tap (otherwise the tap decides). `_meta` is what Flow's control plane adds.
 */
export const RESOURCE_CONFIG_SCHEMA = {
  title: "ResourceConfig",
  description: "A stream of the Singer tap",
  type: "object",
  properties: {
    _meta: { title: "Meta", type: "object" },
    stream: { title: "Stream", description: "The tap_stream_id of the stream in the tap's catalog", type: "string", minLength: 1 },
    replication_method: {
      title: "Replication Method",
      description: "How the tap replicates the stream (default: the tap's choice)",
      type: "string",
      enum: ["FULL_TABLE", "INCREMENTAL", "LOG_BASED"],
    },
    replication_key: { title: "Replication Key", description: "The field an INCREMENTAL stream is replicated by", type: "string" },
  },
  required: ["stream"],
  additionalProperties: false,
} as const;

/** Resource paths are `[tap_stream_id]`. */
export const RESOURCE_PATH_POINTERS = ["/stream"];

export interface ResourceConfig {
  /** The stream's `tap_stream_id`. */
  stream: string;
  replication_method?: SingerReplicationMethod;
  replication_key?: string;
}

/** Checks a binding's resource config; returns it typed, or the problems found. */
export function checkResourceConfig(raw: unknown, where: string): { config?: ResourceConfig; problems: ConfigProblem[] } {
  // Methods in another case are the tap's business, not an error.
  const input = isPlainObject(raw) && typeof raw.replication_method === "string" ? { ...raw, replication_method: replicationMethodOf(raw.replication_method) ?? raw.replication_method } : raw;
  const problems = checkWithSchema(RESOURCE_CONFIG_SCHEMA, input, where);
  if (problems.length) return { problems };
  const r = input as Record<string, unknown>;
  const config: ResourceConfig = { stream: r.stream as string };
  if (typeof r.replication_method === "string") config.replication_method = r.replication_method as SingerReplicationMethod;
  if (typeof r.replication_key === "string" && r.replication_key) config.replication_key = r.replication_key;
  return { config, problems: [] };
}

/**
 * How a binding's rows follow its stream's versions (ACTIVATE_VERSION) and full refreshes:
 *
 * - `keys`: a keyed stream replicated in full (not INCREMENTAL or LOG_BASED). Once the tap
 *   versions the stream, each key's version is kept in the state, and an activated version
 *   deletes (`_meta.op: "d"`) the keys of earlier versions.
 * - `rows`: a stream without a key, captured by row id. Each full refresh (a new version, or a
 *   new run of an unversioned stream) numbers its rows from 0, and once it completes, the rows
 *   the previous refresh had beyond the new count are deleted.
 * - `none`: an incremental stream: rows are only added and updated; row ids continue across
 *   runs; ACTIVATE_VERSION deletes nothing (a log line says so).
 */
export type VersionMode = "keys" | "rows" | "none";

/** A binding of an open capture, as the shim uses it. */
export interface SingerBinding extends ResourceConfig {
  /** The binding's index in the capture: the `binding` of its documents. */
  index: number;
  stateKey: string;
  /** The collection's key, as pointer tokens. */
  key: string[][];
  mode: VersionMode;
  writeSchema: Record<string, unknown>;
}

/** The mode of a binding; see VersionMode. */
export function versionMode(config: ResourceConfig, collectionKey: readonly string[]): VersionMode {
  const incremental = isIncremental(config.replication_method) || (config.replication_method === undefined && config.replication_key !== undefined);
  if (incremental) return "none";
  return deepEqual(collectionKey, [ROW_ID_KEY]) ? "rows" : "keys";
}

/** Reads the bindings of an `open` request; a bad resource config fails with every problem named. */
export function shimBindings(bindings: readonly CaptureBinding[]): SingerBinding[] {
  const problems: ConfigProblem[] = [];
  const out: SingerBinding[] = [];
  const streams = new Map<string, number>();
  bindings.forEach((binding, index) => {
    const where = `bindings[${index}].resourceConfig`;
    const { config, problems: p } = checkResourceConfig(binding.resourceConfig, where);
    problems.push(...p);
    if (!config) return;
    if (streams.has(config.stream)) {
      problems.push({ path: `${where}.stream`, message: `stream ${JSON.stringify(config.stream)} is already captured by bindings[${streams.get(config.stream)}]` });
      return;
    }
    streams.set(config.stream, index);
    const schema = binding.collection.writeSchema ?? binding.collection.readSchema;
    const key = binding.collection.key ?? [];
    out.push({
      ...config,
      index,
      stateKey: binding.stateKey || computeStateKey(binding.resourcePath?.length ? binding.resourcePath : [config.stream], binding.backfill ?? 0),
      key: key.map((p) => parsePointer(p)),
      mode: versionMode(config, key),
      writeSchema: isPlainObject(schema) ? schema : {},
    });
  });
  if (problems.length) throw new ConfigError(problems, { subject: "bindings" });
  return out;
}
