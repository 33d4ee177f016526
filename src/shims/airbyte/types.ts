/**
 * The parts of the Airbyte protocol the shim reads and writes, after
 * `airbyte_protocol.yaml` (airbytehq/airbyte-protocol 0.18.0, MIT). Airbyte publishes no
 * TypeScript types any more, and the shim needs only these shapes, so they are written here
 * once instead of generated. Every object allows unknown properties, as the protocol requires
 * readers to; optional fields may also be null on the wire.
 */

export type AirbyteSyncMode = "full_refresh" | "incremental";

/** A stream of a source's catalog (`AirbyteStream`). */
export interface AirbyteStream {
  name: string;
  json_schema: Record<string, unknown>;
  supported_sync_modes?: AirbyteSyncMode[];
  source_defined_cursor?: boolean | null;
  default_cursor_field?: string[] | null;
  /** A list of paths; sources also write a single field name, or a list of field names. */
  source_defined_primary_key?: string | (string | string[])[] | null;
  namespace?: string | null;
  is_resumable?: boolean | null;
  [key: string]: unknown;
}

export interface AirbyteCatalog {
  streams: AirbyteStream[];
}

/** A stream of the catalog given to `read` (`ConfiguredAirbyteStream`). */
export interface ConfiguredAirbyteStream {
  stream: AirbyteStream;
  sync_mode: AirbyteSyncMode;
  cursor_field?: string[];
  destination_sync_mode: "append" | "overwrite" | "append_dedup";
  primary_key?: string[][];
  [key: string]: unknown;
}

export interface ConfiguredAirbyteCatalog {
  streams: ConfiguredAirbyteStream[];
}

export interface AirbyteStreamDescriptor {
  name: string;
  namespace?: string | null;
}

export interface AirbyteStreamState {
  stream_descriptor: AirbyteStreamDescriptor;
  stream_state?: unknown;
}

export interface AirbyteGlobalState {
  shared_state?: unknown;
  stream_states: AirbyteStreamState[];
}

/** `AirbyteStateMessage`; a missing `type` means LEGACY. */
export interface AirbyteStateMessage {
  type?: "STREAM" | "GLOBAL" | "LEGACY" | null;
  stream?: AirbyteStreamState | null;
  global?: AirbyteGlobalState | null;
  data?: unknown;
  [key: string]: unknown;
}

/**
 * What a source's `read` is given as `--state`: a list of state messages (STREAM, GLOBAL), or,
 * for sources with LEGACY state, the legacy blob itself.
 */
export type AirbyteStateInput = AirbyteStateMessage[] | unknown;

/** `ConnectorSpecification`. */
export interface AirbyteConnectorSpecification {
  connectionSpecification: Record<string, unknown>;
  documentationUrl?: string | null;
  changelogUrl?: string | null;
  supportsIncremental?: boolean | null;
  authSpecification?: unknown;
  advanced_auth?: unknown;
  protocol_version?: string | null;
  [key: string]: unknown;
}

export interface AirbyteConnectionStatus {
  status: "SUCCEEDED" | "FAILED";
  message?: string | null;
}

export interface AirbyteLogMessage {
  level: string;
  message: string;
  stack_trace?: string | null;
}

export interface AirbyteTraceMessage {
  type: "ERROR" | "ESTIMATE" | "STREAM_STATUS" | "ANALYTICS" | (string & {});
  emitted_at?: number;
  error?: { message: string; internal_message?: string | null; stack_trace?: string | null; failure_type?: string | null; stream_descriptor?: AirbyteStreamDescriptor | null } | null;
  estimate?: { name: string; type: string; namespace?: string | null; row_estimate?: number | null; byte_estimate?: number | null } | null;
  stream_status?: { stream_descriptor: AirbyteStreamDescriptor; status: "STARTED" | "RUNNING" | "COMPLETE" | "INCOMPLETE" | (string & {}); reasons?: unknown[] | null } | null;
  analytics?: unknown;
  [key: string]: unknown;
}

export interface AirbyteControlMessage {
  type: "CONNECTOR_CONFIG" | (string & {});
  emitted_at?: number;
  connectorConfig?: { config: Record<string, unknown> } | null;
  [key: string]: unknown;
}

export interface AirbyteRecordMessage {
  stream: string;
  namespace?: string | null;
  data: Record<string, unknown>;
  emitted_at?: number;
  [key: string]: unknown;
}

/** One line of an Airbyte source's stdout. */
export interface AirbyteMessage {
  type: "RECORD" | "STATE" | "LOG" | "SPEC" | "CONNECTION_STATUS" | "CATALOG" | "TRACE" | "CONTROL" | (string & {});
  record?: AirbyteRecordMessage;
  state?: AirbyteStateMessage;
  log?: AirbyteLogMessage;
  spec?: AirbyteConnectorSpecification;
  connectionStatus?: AirbyteConnectionStatus;
  catalog?: AirbyteCatalog;
  trace?: AirbyteTraceMessage;
  control?: AirbyteControlMessage;
  [key: string]: unknown;
}
