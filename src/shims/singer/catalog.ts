/**
 * Reading a tap's catalog (what `--discover` prints, or a catalog file) and writing the one its
 * sync is given. Catalogs come from many taps and from people, so reading is liberal: entries
 * without a `tap_stream_id` use their `stream`, `"selected": "true"` is true, stream-level
 * metadata may be split over several entries, and the misspellings seen in real catalogs are
 * ignored rather than fatal.
 */
import type { Logger } from "../../runtime/index.js";
import { FlowcapError } from "../../util/errors.js";
import { isPlainObject, type JsonObject } from "../../util/mergePatch.js";
import type { SingerCatalog, SingerCatalogEntry, SingerMetadataEntry, SingerReplicationMethod } from "./types.js";

const METHODS: readonly SingerReplicationMethod[] = ["FULL_TABLE", "INCREMENTAL", "LOG_BASED"];

/** A flag as catalogs write it: `true`, or `"true"` in any case. Undefined when absent or not a flag. */
export function flag(value: unknown): boolean | undefined {
  if (typeof value === "boolean") return value;
  if (typeof value === "string") {
    const v = value.trim().toLowerCase();
    if (v === "true") return true;
    if (v === "false") return false;
  }
  return undefined;
}

/** A replication method as written (any case), or undefined when it is none of Singer's. */
export function replicationMethodOf(value: unknown): SingerReplicationMethod | undefined {
  if (typeof value !== "string") return undefined;
  const upper = value.trim().toUpperCase();
  return (METHODS as readonly string[]).includes(upper) ? (upper as SingerReplicationMethod) : undefined;
}

/** True for replication methods that only add and update rows (never a full refresh). */
export function isIncremental(method: SingerReplicationMethod | undefined): boolean {
  return method === "INCREMENTAL" || method === "LOG_BASED";
}

/** The entries of a catalog with an id, in order; entries without one are left out with a warning. */
export function catalogEntries(catalog: unknown, log: Logger, what = "the tap's catalog"): SingerCatalogEntry[] {
  if (!isPlainObject(catalog) || !Array.isArray(catalog.streams)) {
    throw new FlowcapError("SOURCE_OUTPUT_INVALID", `${what} has no "streams" list`, { userFacing: true });
  }
  const out: SingerCatalogEntry[] = [];
  const seen = new Set<string>();
  for (const [i, raw] of catalog.streams.entries()) {
    if (!isPlainObject(raw)) {
      log.warn(`leaving out ${what}'s stream #${i}: it is not an object`);
      continue;
    }
    const id = typeof raw.tap_stream_id === "string" && raw.tap_stream_id ? raw.tap_stream_id : typeof raw.stream === "string" && raw.stream ? raw.stream : undefined;
    if (!id) {
      log.warn(`leaving out ${what}'s stream #${i}: it has neither a tap_stream_id nor a stream name`);
      continue;
    }
    if (seen.has(id)) {
      log.warn(`leaving out ${what}'s stream #${i}: tap_stream_id ${JSON.stringify(id)} is already taken by an earlier stream`);
      continue;
    }
    seen.add(id);
    out.push({ ...(raw as SingerCatalogEntry), tap_stream_id: id, schema: isPlainObject(raw.schema) ? raw.schema : {} });
  }
  return out;
}

function metadataEntries(entry: SingerCatalogEntry): SingerMetadataEntry[] {
  return Array.isArray(entry.metadata) ? entry.metadata.filter((m): m is SingerMetadataEntry => isPlainObject(m) && Array.isArray(m.breadcrumb) && isPlainObject(m.metadata)) : [];
}

/** The stream-level metadata (breadcrumb `[]`), merged when a catalog splits it. */
export function streamMetadata(entry: SingerCatalogEntry): SingerMetadataEntry["metadata"] {
  const out: SingerMetadataEntry["metadata"] = {};
  for (const m of metadataEntries(entry)) if (m.breadcrumb.length === 0) Object.assign(out, m.metadata);
  return out;
}

function nonEmptyNames(value: unknown): string[] | undefined {
  return Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === "string" && v !== "") ? (value as string[]) : undefined;
}

/** The stream's key: `key_properties`, else the `table-key-properties` (or `view-key-properties`) metadata; [] when it has none. */
export function keyProperties(entry: SingerCatalogEntry): string[] {
  const md = streamMetadata(entry);
  return nonEmptyNames(entry.key_properties) ?? nonEmptyNames(md["table-key-properties"]) ?? nonEmptyNames(md["view-key-properties"]) ?? [];
}

/** The stream's replication method: chosen in its metadata, else forced by the tap, else the entry's own. */
export function replicationMethod(entry: SingerCatalogEntry): SingerReplicationMethod | undefined {
  const md = streamMetadata(entry);
  return replicationMethodOf(md["replication-method"]) ?? replicationMethodOf(md["forced-replication-method"]) ?? replicationMethodOf(entry.replication_method);
}

/** The methods the tap allows for the stream: only the forced one when it forces one. */
export function allowedMethods(entry: SingerCatalogEntry): SingerReplicationMethod[] {
  const forced = replicationMethodOf(streamMetadata(entry)["forced-replication-method"]);
  return forced ? [forced] : [...METHODS];
}

/** The stream's valid replication keys, when the tap says. */
export function validReplicationKeys(entry: SingerCatalogEntry): string[] | undefined {
  return nonEmptyNames(streamMetadata(entry)["valid-replication-keys"]);
}

/** The stream's replication key: chosen in its metadata, else the entry's own, else the tap's only valid one for an incremental stream. */
export function replicationKey(entry: SingerCatalogEntry): string | undefined {
  const md = streamMetadata(entry);
  const chosen = md["replication-key"] ?? entry.replication_key;
  if (typeof chosen === "string" && chosen) return chosen;
  const valid = validReplicationKeys(entry);
  return valid?.length === 1 && replicationMethod(entry) === "INCREMENTAL" ? valid[0] : undefined;
}

/**
 * The names a tap may write on the stream's records and states: its `tap_stream_id`, its
 * `stream`, its `stream_alias`, and `<schema-name>-<stream>` (what pipelinewise's database taps
 * write). The id comes first.
 */
export function recordNames(entry: SingerCatalogEntry): string[] {
  const names = [entry.tap_stream_id];
  const add = (n: unknown) => {
    if (typeof n === "string" && n && !names.includes(n)) names.push(n);
  };
  add(entry.stream);
  add(entry.stream_alias);
  const schemaName = streamMetadata(entry)["schema-name"];
  if (typeof schemaName === "string" && schemaName && typeof entry.stream === "string") add(`${schemaName}-${entry.stream}`);
  return names;
}

/** What a binding asks of its stream in the sync catalog. */
export interface StreamSelection {
  replicationMethod?: SingerReplicationMethod;
  replicationKey?: string;
}

export interface SyncCatalogOptions {
  /**
   * Legacy taps read a `--properties` file and look for `"selected": true` in each stream's
   * schema: also write it there.
   */
  properties?: boolean;
}

/**
 * The catalog a sync is given: every entry of the tap's catalog, with exactly the bound streams
 * (keys of `selected`, by `tap_stream_id`) marked `selected: true` at the root breadcrumb and
 * every other one `selected: false`, each bound stream's `replication-method` and
 * `replication-key` as its binding says, and, in bound streams, every field the tap makes
 * available selected unless the catalog itself deselects it. `"selected": "true"` strings become
 * booleans. Nothing else changes: taps need the metadata they discovered (database names, SQL
 * types) to sync.
 */
export function syncCatalog(entries: readonly SingerCatalogEntry[], selected: ReadonlyMap<string, StreamSelection>, options: SyncCatalogOptions = {}): SingerCatalog {
  return {
    streams: entries.map((entry) => {
      const binding = selected.get(entry.tap_stream_id);
      const bound = binding !== undefined;
      const metadata: SingerMetadataEntry[] = [];
      let haveRoot = false;
      for (const m of metadataEntries(entry)) {
        const md: JsonObject = { ...m.metadata };
        if (md.selected !== undefined && flag(md.selected) !== undefined) md.selected = flag(md.selected);
        if (m.breadcrumb.length === 0) {
          if (haveRoot) continue; // merged into the first
          haveRoot = true;
          Object.assign(md, streamMetadata(entry), { selected: bound });
          if (binding?.replicationMethod) md["replication-method"] = binding.replicationMethod;
          if (binding?.replicationKey) md["replication-key"] = binding.replicationKey;
        } else if (bound && md.selected === undefined && md.inclusion !== "unsupported") {
          md.selected = true;
        }
        metadata.push({ breadcrumb: m.breadcrumb, metadata: md as SingerMetadataEntry["metadata"] });
      }
      if (!haveRoot) {
        const md: SingerMetadataEntry["metadata"] = { selected: bound };
        if (binding?.replicationMethod) md["replication-method"] = binding.replicationMethod;
        if (binding?.replicationKey) md["replication-key"] = binding.replicationKey;
        metadata.unshift({ breadcrumb: [], metadata: md });
      }
      const out: SingerCatalogEntry = { ...entry, metadata };
      if (options.properties) out.schema = { ...entry.schema, selected: bound };
      return out;
    }),
  };
}
