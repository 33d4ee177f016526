import { ConfigError, parseWithSchema, type JsonSchemaObject } from "flowcap";

/**
 * The endpoint config, shaped as Estuary's source-postgres (`source-postgres/main.go` `Config`),
 * so a capture can switch connectors with its config unchanged. Parsing is strict, as Estuary's
 * `UnmarshalStrict`: a key the connector does not know is refused, at any level.
 */
const credentialVariant = (title: string, authType: string, properties: Record<string, JsonSchemaObject>, required: string[], id?: string): JsonSchemaObject => ({
  $schema: "https://json-schema.org/draft/2020-12/schema",
  ...(id ? { $id: id } : {}),
  properties: { auth_type: { type: "string", const: authType, default: authType, order: 0 }, ...properties },
  type: "object",
  required,
  title,
  additionalProperties: false,
});

export const configSchema = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  properties: {
    address: { type: "string", title: "Server Address", description: "The host or host:port at which the database can be reached.", order: 0 },
    user: { type: "string", title: "User", description: "The database user to authenticate as.", default: "flow_capture", order: 1 },
    database: { type: "string", description: "Logical database name to capture from.", default: "postgres", order: 2 },
    historyMode: { type: "boolean", description: "Capture change events without reducing them to a final state.", default: false, nonsensitive: true, order: 3 },
    credentials: {
      oneOf: [
        credentialVariant("Password", "UserPassword", { password: { type: "string", title: "Password", description: "Database user's password", secret: true } }, ["password"]),
        credentialVariant(
          "AWS IAM",
          "AWSIAM",
          {
            aws_region: { type: "string", title: "AWS Region", description: "AWS Region of your resource" },
            aws_role_arn: { type: "string", title: "AWS Role ARN", description: "AWS Role which has access to the resource which will be assumed by Flow" },
          },
          ["aws_region", "aws_role_arn"],
          "https://github.com/estuary/connectors/go/auth/iam/aws-config",
        ),
        credentialVariant(
          "Google Cloud IAM",
          "GCPIAM",
          {
            gcp_service_account_to_impersonate: { type: "string", title: "Service Account", description: "GCP Service Account email for Cloud SQL IAM authentication" },
            gcp_workload_identity_pool_audience: { type: "string", title: "Workload Identity Pool Audience", description: "GCP Workload Identity Pool Audience" },
          },
          ["gcp_service_account_to_impersonate", "gcp_workload_identity_pool_audience"],
          "https://github.com/estuary/connectors/go/auth/iam/gcp-config",
        ),
        credentialVariant(
          "Azure IAM",
          "AzureIAM",
          {
            azure_client_id: { type: "string", title: "Azure Client ID", description: "Azure App Registration Client ID for Azure Active Directory authentication" },
            azure_tenant_id: { type: "string", title: "Azure Tenant ID", description: "Azure Tenant ID for Azure Active Directory authentication" },
          },
          ["azure_client_id", "azure_tenant_id"],
          "https://github.com/estuary/connectors/go/auth/iam/azure-config",
        ),
      ],
      type: "object",
      title: "Authentication",
      default: { auth_type: "UserPassword" },
      discriminator: { propertyName: "auth_type" },
      order: 4,
    },
    // Estuary hides this legacy field from its schema; it is declared here (hidden) so that it is
    // known to the strict parser and redacted from logs as a secret.
    password: { type: "string", secret: true, "x-hidden-field": true, description: "Legacy: the password, when `credentials` is absent." },
    discoveryFilters: {
      properties: {
        include_schemas: { items: { type: "string" }, type: "array", title: "Include Schemas", description: "If specified only tables in the listed schemas will be discovered. Combined as a union with the 'Discovery Schema Selection' setting under Advanced Options.", nonsensitive: true },
        exclude_schemas: { items: { type: "string" }, type: "array", title: "Exclude Schemas", description: "Tables in the listed schemas will be excluded from discovery.", nonsensitive: true },
        table_patterns: {
          items: { type: "string" },
          type: "array",
          title: "Table Patterns",
          description:
            "If specified only tables matching at least one of these glob patterns will be discovered. A pattern containing a '.' matches against the qualified 'schema.table' name. A pattern without a '.' matches the unqualified table name in any schema. Use '*' or '?' as wildcards.",
          nonsensitive: true,
        },
        discover_unpublished_tables: { type: "boolean", title: "Discover Unpublished Tables", description: "When set the capture will discover all tables including those not currently in the publication. Combined as a union with the equivalent setting under Advanced Options.", nonsensitive: true },
      },
      additionalProperties: false,
      type: "object",
      title: "Discovery Filters",
      description: "Options that restrict which tables are visible to discovery.",
    },
    advanced: {
      properties: {
        publicationName: { type: "string", description: "The name of the PostgreSQL publication to replicate from.", default: "flow_publication" },
        slotName: { type: "string", description: "The name of the PostgreSQL replication slot to replicate from.", default: "flow_slot" },
        watermarksTable: { type: "string", description: "The name of the table used for watermark writes during backfills. Must be fully-qualified in '<schema>.<table>' form.", default: "public.flow_watermarks" },
        skip_backfills: { type: "string", title: "Skip Backfills", description: "A comma-separated list of fully-qualified table names which should not be backfilled." },
        backfill_chunk_size: { type: "integer", title: "Backfill Chunk Size", description: "The number of rows which should be fetched from the database in a single backfill query.", default: 50000, nonsensitive: true },
        sslmode: { type: "string", enum: ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"], title: "SSL Mode", description: "Overrides SSL connection behavior by setting the 'sslmode' parameter." },
        discover_schemas: { items: { type: "string" }, type: "array", title: "Discovery Schema Selection", description: "If this is specified only tables in the selected schema(s) will be automatically discovered. Omit all entries to discover tables from all schemas.", nonsensitive: true },
        min_backfill_xid: { type: "string", title: "Minimum Backfill XID", description: "Only backfill rows with XMIN values greater (in a 32-bit modular comparison) than the specified XID. Not supported by this connector: leave it empty.", pattern: "^[0-9]+$" },
        read_only_capture: { type: "boolean", title: "Read-Only Capture", description: "When set the capture will operate in read-only mode and avoid operations such as watermark writes. This comes with some tradeoffs; consult the connector documentation for more information.", nonsensitive: true },
        capture_as_partitions: { type: "boolean", title: "Capture Partitioned Tables As Partitions", description: "Not supported by this connector: partitioned tables are captured as their root table.", nonsensitive: true },
        discover_unpublished_tables: { type: "boolean", title: "Discover Unpublished Tables", description: "When set the capture will discover all tables including those not currently in the publication. Unpublished tables will be added to the publication at capture time if possible.", nonsensitive: true },
        source_tag: { type: "string", title: "Source Tag", description: "When set the capture will add this value as the property 'tag' in the source metadata of each document.", nonsensitive: true },
        rediscovery_interval: { type: "string", title: "Rediscovery Interval", default: "15m", description: "How often the connector re-runs discovery while a capture is running to notice newly activated bindings. Accepts duration strings like '15m' or '1h'.", pattern: "^[0-9]+(ms|s|m|h)$" },
        feature_flags: { type: "string", title: "Feature Flags", description: "This property is intended for Estuary internal use. You should only modify this field as directed by Estuary support.", nonsensitive: true },
        statement_timeout: { type: "string", enum: ["", "0", "30s", "1m", "2m", "5m", "30m"], title: "Statement Timeout", description: "Overrides the statement timeout used by the connector. Leave blank to use the default of 2 minutes. Set to '0' to disable statement timeouts entirely.", default: "", nonsensitive: true },
        discover_only_published: { type: "boolean", nonsensitive: true, "x-hidden-field": true },
      },
      additionalProperties: false,
      type: "object",
      title: "Advanced Options",
      description: "Options for advanced users. You should not typically need to modify these.",
      advanced: true,
    },
    networkTunnel: {
      properties: {
        sshForwarding: {
          properties: {
            sshEndpoint: { type: "string", title: "SSH Endpoint", description: "Not supported by this connector: leave empty.", pattern: "^ssh://.+@.+$" },
            privateKey: { type: "string", title: "SSH Private Key", description: "Private key to connect to the remote SSH server.", multiline: true, secret: true },
          },
          additionalProperties: false,
          type: "object",
          required: ["sshEndpoint", "privateKey"],
          title: "SSH Forwarding",
        },
      },
      additionalProperties: false,
      type: "object",
      title: "Network Tunnel",
      description: "Not supported by this connector.",
    },
  },
  type: "object",
  required: ["address", "user", "database"],
  additionalProperties: false,
  title: "PostgreSQL Connection",
} as const satisfies JsonSchemaObject;

/** The binding's resource config, as Estuary's `sqlcapture.Resource`. */
export const resourceConfigSchema = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  $id: "https://github.com/estuary/connectors/sqlcapture/resource",
  properties: {
    mode: {
      type: "string",
      enum: ["", "Normal", "Precise", "Only Changes", "Without Primary Key"],
      title: "Backfill Mode",
      description: "How the preexisting contents of the table should be backfilled. This should generally not be changed.",
      default: "",
    },
    namespace: { type: "string", title: "Schema", description: "The schema (namespace) in which the table resides.", readOnly: true },
    stream: { type: "string", title: "Table Name", description: "The name of the table to be captured.", readOnly: true },
    priority: {
      type: "integer",
      title: "Backfill Priority",
      description: "An optional integer priority for this binding. The highest priority binding(s) will be backfilled completely before any others. The default priority is zero.",
    },
    advanced: {
      properties: {
        additional_backfill_filter: { type: "string", title: "Additional Backfill Filter", description: "Optional filter clause which will be applied to all backfill queries for this binding." },
      },
      additionalProperties: false,
      type: "object",
      title: "Advanced Options",
      description: "Options for advanced users. You should not typically need to modify these.",
      advanced: true,
    },
    // Kept for old configs, as Estuary's hidden fields are.
    primary_key: { type: "array", items: { type: "string" }, "x-hidden-field": true, description: "Overrides the columns the backfill orders by." },
    syncMode: { type: "string", "x-hidden-field": true },
    _meta: { type: "object", description: "Set by Flow; not part of the resource's configuration." },
  },
  type: "object",
  required: ["namespace", "stream"],
  additionalProperties: false,
  title: "SQL Database Resource Spec",
} as const satisfies JsonSchemaObject;

export type BackfillMode = "" | "Normal" | "Precise" | "Only Changes" | "Without Primary Key";

export interface ResourceConfig {
  mode: BackfillMode;
  namespace: string;
  stream: string;
  priority: number;
  backfillFilter: string;
  primaryKey: string[] | undefined;
}

export type SslMode = "disable" | "allow" | "prefer" | "require" | "verify-ca" | "verify-full";

/** The parsed config, with Estuary's defaults applied (`Config.SetDefaults`). */
export interface Config {
  host: string;
  port: number;
  /** `host:port`, as Estuary writes the address after defaulting the port. */
  address: string;
  user: string;
  password: string;
  database: string;
  historyMode: boolean;
  publicationName: string;
  slotName: string;
  /** The watermarks table, `schema.table` as configured. */
  watermarksTable: string;
  watermarks: { schema: string; table: string };
  skipBackfills: string[];
  backfillChunkSize: number;
  sslmode: SslMode | undefined;
  readOnlyCapture: boolean;
  sourceTag: string;
  includeSchemas: string[];
  excludeSchemas: string[];
  tablePatterns: string[];
  discoverUnpublished: boolean;
  statementTimeoutMs: number;
  rediscoveryIntervalMs: number;
  flags: FeatureFlags;
}

export interface FeatureFlags {
  useSchemaInference: boolean;
  emitSourcedSchemas: boolean;
  createReplicationSlot: boolean;
  skipPrerequisites: boolean;
  skipTablePrerequisites: boolean;
}

const FLAG_DEFAULTS: Record<string, boolean> = {
  use_schema_inference: true,
  emit_sourced_schemas: true,
  date_as_date: true,
  time_as_time: true,
  multidimensional_arrays: false,
  flatten_arrays: true,
  create_replication_slot: true,
  skip_prerequisites: false,
  skip_table_prerequisites: false,
};
/** Flags whose non-default setting changes document values, which this connector does not do. */
const FIXED_FLAGS = ["date_as_date", "time_as_time", "multidimensional_arrays", "flatten_arrays"];

interface RawConfig {
  address: string;
  user: string;
  database: string;
  historyMode?: boolean;
  password?: string;
  credentials?: { auth_type: string; password?: string };
  discoveryFilters?: { include_schemas?: string[]; exclude_schemas?: string[]; table_patterns?: string[]; discover_unpublished_tables?: boolean };
  advanced?: {
    publicationName?: string;
    slotName?: string;
    watermarksTable?: string;
    skip_backfills?: string;
    backfill_chunk_size?: number;
    sslmode?: SslMode;
    discover_schemas?: string[];
    min_backfill_xid?: string;
    read_only_capture?: boolean;
    capture_as_partitions?: boolean;
    discover_unpublished_tables?: boolean;
    source_tag?: string;
    rediscovery_interval?: string;
    feature_flags?: string;
    statement_timeout?: string;
  };
  networkTunnel?: { sshForwarding?: { sshEndpoint?: string } };
}

/**
 * The schema the parser checks against: the spec's, less its `$schema` declarations (draft
 * 2020-12, as Estuary's spec says, which the SDK's draft-07 validator would not load; nothing
 * in these schemas differs between the drafts).
 */
function forValidation(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(forValidation);
  if (schema === null || typeof schema !== "object") return schema;
  return Object.fromEntries(Object.entries(schema).filter(([k]) => k !== "$schema" && k !== "$id").map(([k, v]) => [k, forValidation(v)]));
}
const configValidationSchema = forValidation(configSchema) as { properties: { credentials: Record<string, unknown> } } & JsonSchemaObject;
// Without credentials the legacy top-level password applies: the UI's default must not be filled in.
delete configValidationSchema.properties.credentials.default;
const resourceValidationSchema = forValidation(resourceConfigSchema) as JsonSchemaObject;

/** Parses a Go-style duration of the forms the config allows (`90s`, `15m`, `1h`, `500ms`). */
export function parseDurationMs(text: string): number | undefined {
  const m = /^([0-9]+)(ms|s|m|h)$/.exec(text);
  if (!m) return undefined;
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as "ms" | "s" | "m" | "h"];
}

/**
 * Parses and checks the endpoint config: unknown keys and wrong types are refused with their
 * path, then Estuary's `Config.Validate` rules apply, each problem named. Settings Estuary has but
 * this connector does not implement are refused when set, rather than silently ignored.
 */
export function parseConfig(value: unknown): Config {
  const raw = parseWithSchema<RawConfig>(configValidationSchema, value, "endpoint config");
  const problems: { path: string; message: string }[] = [];
  const problem = (path: string, message: string) => problems.push({ path, message });
  const adv = raw.advanced ?? {};

  if (!raw.address) problem("address", "missing 'address'");
  if (!raw.user) problem("user", "missing 'user'");
  let password = raw.password ?? "";
  const credentials = raw.credentials ?? { auth_type: "UserPassword" };
  if (credentials.auth_type !== "UserPassword") {
    problem("credentials.auth_type", `${credentials.auth_type} authentication is not supported by this connector: use UserPassword`);
  } else if (raw.credentials) {
    password = credentials.password ?? "";
  }
  if (credentials.auth_type === "UserPassword" && !password) problem("credentials.password", "missing 'password'");
  if (/\.pooler\.supabase\.com(:6543)?$/.test(raw.address ?? "")) {
    problem("address", `address must be a direct connection: address ${JSON.stringify(raw.address)} is using the Supabase connection pooler, consult go.estuary.dev/supabase-direct-address for details`);
  }
  const watermarksTable = adv.watermarksTable || "public.flow_watermarks";
  if (!watermarksTable.includes(".")) problem("advanced.watermarksTable", `invalid 'watermarksTable' configuration: table name ${JSON.stringify(watermarksTable)} must be fully-qualified as "<schema>.<table>"`);
  const skipBackfills = adv.skip_backfills ? adv.skip_backfills.split(",") : [];
  for (const s of skipBackfills) {
    if (!s.includes(".")) problem("advanced.skip_backfills", `invalid 'skipBackfills' configuration: table name ${JSON.stringify(s)} must be fully-qualified as "<schema>.<table>"`);
  }
  for (const s of adv.discover_schemas ?? []) {
    if (s === "") problem("advanced.discover_schemas", "discovery schema selection must not contain any entries that are blank: To discover tables from all schemas, remove all entries from the discovery schema selection list");
  }
  let statementTimeoutMs = 120_000;
  if (adv.statement_timeout === "0") statementTimeoutMs = 0;
  else if (adv.statement_timeout) statementTimeoutMs = parseDurationMs(adv.statement_timeout)!;
  let rediscoveryIntervalMs = 15 * 60_000;
  if (adv.rediscovery_interval) {
    const ms = parseDurationMs(adv.rediscovery_interval);
    if (ms === undefined || ms < 60_000 || ms > 365 * 24 * 3_600_000) {
      problem("advanced.rediscovery_interval", `invalid 'rediscovery_interval' configuration ${JSON.stringify(adv.rediscovery_interval)}: must be between 1m0s and 8760h0m0s`);
    } else rediscoveryIntervalMs = ms;
  }
  for (const pattern of raw.discoveryFilters?.table_patterns ?? []) {
    if (pattern === "" || /[[\]]/.test(pattern)) problem("discoveryFilters.table_patterns", `invalid table pattern ${JSON.stringify(pattern)}: use '*' and '?' wildcards only`);
  }
  if (adv.min_backfill_xid) problem("advanced.min_backfill_xid", "XMIN-filtered backfills are not supported by this connector: leave 'min_backfill_xid' empty");
  if (adv.capture_as_partitions) problem("advanced.capture_as_partitions", "capturing partitions individually is not supported by this connector: leave 'capture_as_partitions' unset");
  if (raw.networkTunnel?.sshForwarding?.sshEndpoint) problem("networkTunnel.sshForwarding", "SSH tunnels are not supported by this connector: connect directly, or run an SSH tunnel yourself and point 'address' at it");
  if (adv.backfill_chunk_size !== undefined && adv.backfill_chunk_size < 0) problem("advanced.backfill_chunk_size", "must be a positive number of rows");

  // Feature flags: `name` sets a flag, `no_name` clears it (Estuary's common.ParseFeatureFlags).
  const flags = { ...FLAG_DEFAULTS };
  for (const entry of (adv.feature_flags ?? "").split(",").map((s) => s.trim()).filter(Boolean)) {
    const [name, on] = entry.startsWith("no_") ? [entry.slice(3), false] : [entry, true];
    if (!(name in FLAG_DEFAULTS)) problem("advanced.feature_flags", `unknown feature flag ${JSON.stringify(entry)}`);
    else if (FIXED_FLAGS.includes(name) && on !== FLAG_DEFAULTS[name]) problem("advanced.feature_flags", `feature flag ${JSON.stringify(entry)} is not supported by this connector (it keeps Estuary's current value formats)`);
    else flags[name] = on;
  }

  let host = raw.address ?? "";
  let port = 5432;
  const bracketed = /^\[(.*)\](?::(\d+))?$/.exec(host);
  if (bracketed) {
    host = bracketed[1]!;
    if (bracketed[2]) port = Number(bracketed[2]);
  } else if (host.includes(":") && host.indexOf(":") === host.lastIndexOf(":")) {
    const at = host.lastIndexOf(":");
    port = Number(host.slice(at + 1));
    host = host.slice(0, at);
    if (!Number.isInteger(port) || port <= 0 || port > 65535) problem("address", `invalid port in address ${JSON.stringify(raw.address)}`);
  }
  if (problems.length) throw new ConfigError(problems, { subject: "endpoint config" });

  const [wmSchema, ...wmRest] = watermarksTable.split(".");
  return {
    host,
    port,
    address: raw.address.includes(":") ? raw.address : `${raw.address}:5432`,
    user: raw.user,
    password,
    database: raw.database,
    historyMode: raw.historyMode ?? false,
    publicationName: adv.publicationName || "flow_publication",
    slotName: adv.slotName || "flow_slot",
    watermarksTable,
    watermarks: { schema: wmSchema!, table: wmRest.join(".") },
    skipBackfills: skipBackfills.map((s) => s.toLowerCase()),
    backfillChunkSize: adv.backfill_chunk_size || 50_000,
    sslmode: adv.sslmode,
    readOnlyCapture: adv.read_only_capture ?? false,
    sourceTag: adv.source_tag ?? "",
    includeSchemas: [...new Set([...(raw.discoveryFilters?.include_schemas ?? []), ...(adv.discover_schemas ?? [])])].sort(),
    excludeSchemas: raw.discoveryFilters?.exclude_schemas ?? [],
    tablePatterns: raw.discoveryFilters?.table_patterns ?? [],
    discoverUnpublished: (adv.discover_unpublished_tables ?? false) || (raw.discoveryFilters?.discover_unpublished_tables ?? false),
    statementTimeoutMs,
    rediscoveryIntervalMs,
    flags: {
      useSchemaInference: flags.use_schema_inference!,
      emitSourcedSchemas: flags.emit_sourced_schemas!,
      createReplicationSlot: flags.create_replication_slot!,
      skipPrerequisites: flags.skip_prerequisites!,
      skipTablePrerequisites: flags.skip_table_prerequisites!,
    },
  };
}

/** Parses a binding's resource config (Estuary's `Resource` and its `Validate`). */
export function parseResource(value: unknown, where: string): ResourceConfig {
  const raw = parseWithSchema<{ mode?: BackfillMode; namespace: string; stream: string; priority?: number; advanced?: { additional_backfill_filter?: string }; primary_key?: string[] }>(
    resourceValidationSchema,
    value,
    "resource config",
    where,
  );
  const problems: { path: string; message: string }[] = [];
  if (!raw.namespace) problems.push({ path: `${where}.namespace`, message: "table namespace unspecified" });
  if (!raw.stream) problems.push({ path: `${where}.stream`, message: "table name unspecified" });
  const filter = raw.advanced?.additional_backfill_filter ?? "";
  if (filter !== "" && filter.trim() === "") problems.push({ path: `${where}.advanced.additional_backfill_filter`, message: `invalid backfill filter ${JSON.stringify(filter)}: must be empty or contain a filter expression` });
  if (filter.trim() !== "" && raw.mode === "Precise") problems.push({ path: `${where}.advanced.additional_backfill_filter`, message: 'backfill filters cannot be used in the "Precise" backfill mode' });
  if (problems.length) throw new ConfigError(problems, { subject: "resource config" });
  return {
    mode: raw.mode ?? "",
    namespace: raw.namespace,
    stream: raw.stream,
    priority: raw.priority ?? 0,
    backfillFilter: filter.trim(),
    primaryKey: raw.primary_key?.length ? raw.primary_key : undefined,
  };
}

/** A table's lowercased `schema.table`, as Estuary's `JoinStreamID`. */
export function streamId(schema: string, table: string): string {
  return `${schema}.${table}`.toLowerCase();
}

/** One binding's state (Estuary's `sqlcapture.TableState`). */
export interface TableState {
  mode: TableMode;
  key_columns: string[] | null;
  /** The backfill's resume key: a base64 FoundationDB tuple, or null. */
  scanned: string | null;
  metadata?: unknown;
  backfilled: number;
}

export type TableMode = "Pending" | "Backfill" | "UnfilteredBackfill" | "KeylessBackfill" | "Active" | "Ignore" | "Missing";

/** The connector state (Estuary's `sqlcapture.PersistentState`). */
export interface PersistentState {
  /** The end LSN of the last transaction processed (`X/Y`), or null when replication starts afresh. */
  cursor: string | null;
  bindingStateV1: Record<string, TableState>;
}

const MODES: TableMode[] = ["Pending", "Backfill", "UnfilteredBackfill", "KeylessBackfill", "Active", "Ignore", "Missing"];
const TABLE_STATE_KEYS = new Set(["mode", "key_columns", "scanned", "metadata", "backfilled"]);

/** Parses the state Flow opens the session with; strict like Estuary's (an unknown key is refused). */
export function parseState(value: unknown): PersistentState {
  const fail = (message: string): never => {
    throw new ConfigError([{ path: "state", message }], { subject: "connector state", code: "STATE_INVALID" });
  };
  const state = (value ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(state)) if (key !== "cursor" && key !== "bindingStateV1") fail(`unable to parse state checkpoint: unknown key ${JSON.stringify(key)}`);
  const cursor = state.cursor ?? null;
  if (cursor !== null && typeof cursor !== "string") fail("unable to parse state checkpoint: cursor must be an LSN string");
  const bindings: Record<string, TableState> = {};
  for (const [key, raw] of Object.entries((state.bindingStateV1 ?? {}) as Record<string, Record<string, unknown>>)) {
    if (raw === null) continue;
    for (const k of Object.keys(raw)) if (!TABLE_STATE_KEYS.has(k)) fail(`unable to parse state checkpoint: unknown key ${JSON.stringify(k)} in bindingStateV1[${JSON.stringify(key)}]`);
    if (!MODES.includes(raw.mode as TableMode)) fail(`unable to parse state checkpoint: invalid mode ${JSON.stringify(raw.mode)} for ${key}`);
    bindings[key] = {
      mode: raw.mode as TableMode,
      key_columns: (raw.key_columns as string[] | null | undefined) ?? null,
      scanned: (raw.scanned as string | null | undefined) ?? null,
      ...(raw.metadata !== undefined ? { metadata: raw.metadata } : {}),
      backfilled: typeof raw.backfilled === "number" ? raw.backfilled : 0,
    };
  }
  return { cursor: cursor as string | null, bindingStateV1: bindings };
}
