/**
 * The parts of the Singer specification the shim reads and writes, after singer-io's
 * `docs/SPEC.md` (spec v0.3.0), `DISCOVERY_MODE.md` and `SYNC_MODE.md`, singer-python's
 * `messages.py`, `catalog.py` and `metadata.py`, and the Meltano SDK's `BATCH` message and
 * `--about` output. Singer publishes no schema of its own, so these shapes are written here
 * once. Every object allows unknown properties, and optional fields may also be null on the
 * wire: taps are liberal in what they write, and so is the shim in what it reads.
 */

/** The replication methods of Singer's metadata. */
export type SingerReplicationMethod = "FULL_TABLE" | "INCREMENTAL" | "LOG_BASED";

/** One entry of a stream's `metadata`: `breadcrumb` `[]` is the stream, `["properties", f]` a field. */
export interface SingerMetadataEntry {
  breadcrumb: (string | number)[];
  metadata: {
    /** Written by users (or the shim): `true`, or the string `"true"` as SYNC_MODE.md's own example has it. */
    selected?: boolean | string | null;
    "replication-method"?: SingerReplicationMethod | string | null;
    "replication-key"?: string | null;
    "view-key-properties"?: string[] | null;
    /** Written by taps. */
    inclusion?: "available" | "automatic" | "unsupported" | string | null;
    "selected-by-default"?: boolean | string | null;
    "valid-replication-keys"?: string[] | null;
    "forced-replication-method"?: SingerReplicationMethod | string | null;
    "table-key-properties"?: string[] | null;
    "schema-name"?: string | null;
    "is-view"?: boolean | null;
    [key: string]: unknown;
  };
}

/** One stream of a catalog (`properties.json` of legacy taps has the same shape). */
export interface SingerCatalogEntry {
  tap_stream_id: string;
  /** Required by the spec, but some catalogs leave it out. */
  stream?: string | null;
  schema: Record<string, unknown>;
  table_name?: string | null;
  metadata?: SingerMetadataEntry[] | null;
  key_properties?: string[] | null;
  replication_key?: string | null;
  replication_method?: SingerReplicationMethod | string | null;
  /** The name a tap writes on records instead of `stream` (singer-python). */
  stream_alias?: string | null;
  [key: string]: unknown;
}

export interface SingerCatalog {
  streams: SingerCatalogEntry[];
  [key: string]: unknown;
}

/** `SCHEMA`. */
export interface SingerSchemaMessage {
  type: "SCHEMA";
  stream: string;
  schema: Record<string, unknown>;
  key_properties?: string[] | null;
  bookmark_properties?: string[] | null;
  [key: string]: unknown;
}

/** `RECORD`. */
export interface SingerRecordMessage {
  type: "RECORD";
  stream: string;
  record: Record<string, unknown>;
  version?: number | null;
  time_extracted?: string | null;
  [key: string]: unknown;
}

/** `STATE`: `value` is whatever the tap keeps; by convention `{"bookmarks": {<tap_stream_id>: {...}}, ...}`. */
export interface SingerStateMessage {
  type: "STATE";
  value: unknown;
  [key: string]: unknown;
}

/** `ACTIVATE_VERSION`: the stream's rows of earlier versions are gone; those of `version` replace them. */
export interface SingerActivateVersionMessage {
  type: "ACTIVATE_VERSION";
  stream: string;
  version: number;
  [key: string]: unknown;
}

/** `BATCH` (Meltano SDK): records written to files instead of stdout. */
export interface SingerBatchMessage {
  type: "BATCH";
  stream: string;
  encoding: { format: "jsonl" | "parquet" | "arrow" | (string & {}); compression?: "gzip" | "none" | (string & {}) | null };
  /** `file://` URLs (or paths) of files holding one record object per line. */
  manifest: string[];
  [key: string]: unknown;
}

/** One message a tap writes. Types are case-insensitive on the wire; the shim upper-cases them. */
export type SingerMessage = SingerSchemaMessage | SingerRecordMessage | SingerStateMessage | SingerActivateVersionMessage | SingerBatchMessage;

/** What a Meltano SDK tap prints for `--about --format=json`. */
export interface SingerAbout {
  name?: string;
  description?: string;
  version?: string;
  /** `catalog`, `properties`, `discover`, `state`, `about`, `batch`, `activate-version`, ... */
  capabilities?: string[];
  /** The tap's config schema. */
  settings?: Record<string, unknown>;
  [key: string]: unknown;
}
