import type pg from "pg";
import type { DiscoveredBinding } from "flowcap/protocol";
import { type Config, streamId } from "./models.js";
import { predictableKeyOrder } from "./keys.js";
import type { ColumnType } from "./values.js";

/**
 * Discovery as Estuary's connector does it (`source-postgres/discovery.go`,
 * `sqlcapture/discovery.go`): which tables, their columns and keys, and the collection schema
 * generated from them.
 */

export interface ColumnInfo {
  name: string;
  index: number;
  nullable: boolean;
  type: ColumnType;
  /** For bpchar(n) and varchar(n). */
  charLength: number | undefined;
  description: string | undefined;
  /** Generated columns are left out of schemas and backfills: replication cannot see them. */
  omit: boolean;
}

export interface TableInfo {
  schema: string;
  table: string;
  /** Lowercased `schema.table`. */
  id: string;
  columns: ColumnInfo[];
  /** Key columns: the primary key, else a NOT NULL unique index's columns; empty for none. */
  primaryKey: string[];
  /** True when the key is a secondary index, not the primary key. */
  fallbackKey: boolean;
  /** True when the database's order of keys is not the bytewise order of their encoding. */
  unpredictableKeyOrdering: boolean;
}

const SYSTEM_SCHEMAS = ["pg_catalog", "pg_internal", "information_schema", "catalog_history", "cron", "pglogical"];

/** Flow-materialized tables are not offered (Estuary's sentinel column and table names). */
const MATERIALIZED_COLUMN = "flow_published_at";
const FLOW_TABLES = ["flow_materializations_v2", "flow_checkpoints_v1"];

export interface TableId {
  schema: string;
  table: string;
}

/** Compiles a discovery glob: `*` and `?` wildcards, matched against `schema.table` when it has a dot. */
function globMatcher(pattern: string): (t: TableId) => boolean {
  const re = new RegExp("^" + pattern.replace(/[.+^${}()|\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".") + "$");
  return pattern.includes(".") ? (t) => re.test(`${t.schema}.${t.table}`) : (t) => re.test(t.table);
}

/** Every table the config lets discovery see (Estuary's `ListTables`). */
export async function listTables(client: pg.Client, config: Config): Promise<TableId[]> {
  const args: unknown[] = [SYSTEM_SCHEMAS];
  let query = `SELECT n.nspname AS schema, c.relname AS table FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname <> ALL($1) AND c.relpersistence = 'p' AND NOT c.relispartition AND c.relkind IN ('r', 'p')`;
  if (config.includeSchemas.length) {
    args.push(config.includeSchemas);
    query += ` AND n.nspname = ANY($2)`;
  }
  let tables = (await client.query<TableId>(query, args)).rows;
  const excluded = new Set(config.excludeSchemas);
  const patterns = config.tablePatterns.map(globMatcher);
  const watermarks = streamId(config.watermarks.schema, config.watermarks.table);
  tables = tables.filter((t) => !excluded.has(t.schema) && (patterns.length === 0 || patterns.some((p) => p(t))) && streamId(t.schema, t.table) !== watermarks);
  if (!config.discoverUnpublished) {
    const published = await publishedTables(client, config.publicationName);
    tables = tables.filter((t) => published.has(streamId(t.schema, t.table)));
  }
  return tables.sort((a, b) => (a.schema === b.schema ? cmp(a.table, b.table) : cmp(a.schema, b.schema)));
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The lowercased stream ids of the tables in the publication. */
export async function publishedTables(client: pg.Client, publication: string): Promise<Set<string>> {
  const rows = (await client.query<TableId>(`SELECT schemaname AS schema, tablename AS table FROM pg_catalog.pg_publication_tables WHERE pubname = $1`, [publication])).rows;
  return new Set(rows.map((r) => streamId(r.schema, r.table)));
}

interface ColumnRow {
  schema: string;
  table: string;
  attnum: number;
  name: string;
  nullable: boolean;
  typname: string;
  typtype: string;
  char_length: number | null;
  generated: boolean;
  description: string | null;
}

/** Details of the given tables (Estuary's `DiscoverTableDetails`), keyed by stream id. */
export async function discoverTables(client: pg.Client, tables: TableId[]): Promise<Map<string, TableInfo>> {
  const out = new Map<string, TableInfo>();
  if (tables.length === 0) return out;
  const schemas = tables.map((t) => t.schema);
  const names = tables.map((t) => t.table);
  const wanted = `(n.nspname, c.relname) IN (SELECT * FROM unnest($1::text[], $2::text[]))`;
  const columns = await client.query<ColumnRow>(
    `SELECT n.nspname AS schema, c.relname AS table, a.attnum, a.attname AS name,
            NOT (a.attnotnull OR (t.typtype = 'd' AND t.typnotnull)) AS nullable,
            COALESCE(bt.typname, t.typname) AS typname, t.typtype::text AS typtype,
            CASE WHEN a.atttypmod > 4 THEN a.atttypmod - 4 END AS char_length,
            (a.attgenerated = 's') AS generated,
            col_description(c.oid, a.attnum) AS description
       FROM pg_catalog.pg_attribute a
       JOIN pg_catalog.pg_type t ON a.atttypid = t.oid
       JOIN pg_catalog.pg_class c ON a.attrelid = c.oid
       JOIN pg_catalog.pg_namespace n ON c.relnamespace = n.oid
       LEFT JOIN pg_catalog.pg_type bt ON t.typtype = 'd' AND t.typbasetype = bt.oid
      WHERE ${wanted} AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY n.nspname, c.relname, a.attnum`,
    [schemas, names],
  );
  for (const row of columns.rows) {
    const id = streamId(row.schema, row.table);
    let info = out.get(id);
    if (!info) out.set(id, (info = { schema: row.schema, table: row.table, id, columns: [], primaryKey: [], fallbackKey: false, unpredictableKeyOrdering: false }));
    let typname = row.typname;
    let isArray = false;
    if (row.typtype !== "c" && row.typtype !== "e" && row.typtype !== "r" && row.typtype !== "m" && typname.startsWith("_")) {
      typname = typname.slice(1);
      isArray = true;
    }
    info.columns.push({
      name: row.name,
      index: row.attnum,
      nullable: row.nullable,
      type: { name: typname, typtype: row.typtype === "d" ? "b" : row.typtype, isArray },
      charLength: row.char_length ?? undefined,
      description: row.description ?? undefined,
      omit: row.generated,
    });
  }

  const keys = await client.query<{ schema: string; table: string; name: string }>(
    `SELECT n.nspname AS schema, c.relname AS table, a.attname AS name
       FROM pg_catalog.pg_index i
       JOIN pg_catalog.pg_class c ON c.oid = i.indrelid
       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
       CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, position)
       JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
      WHERE i.indisprimary AND ${wanted}
      ORDER BY n.nspname, c.relname, k.position`,
    [schemas, names],
  );
  for (const row of keys.rows) out.get(streamId(row.schema, row.table))?.primaryKey.push(row.name);

  const indexes = await client.query<{ schema: string; table: string; index: string; name: string }>(
    `SELECT n.nspname AS schema, c.relname AS table, ic.relname AS index, a.attname AS name
       FROM pg_catalog.pg_index i
       JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
       JOIN pg_catalog.pg_class c ON c.oid = i.indrelid
       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
       CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, position)
       JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
      WHERE i.indisunique AND i.indexprs IS NULL AND c.relkind = 'r' AND NOT i.indisprimary AND ${wanted}
      ORDER BY n.nspname, c.relname, ic.relname, k.position`,
    [schemas, names],
  );
  const byTable = new Map<string, Map<string, string[]>>();
  for (const row of indexes.rows) {
    const id = streamId(row.schema, row.table);
    const table = byTable.get(id) ?? new Map<string, string[]>();
    byTable.set(id, table);
    table.set(row.index, [...(table.get(row.index) ?? []), row.name]);
  }
  for (const info of out.values()) {
    if (info.primaryKey.length === 0) {
      const candidates = [...(byTable.get(info.id) ?? new Map<string, string[]>()).entries()]
        .filter(([, cols]) => cols.every((c) => info.columns.find((col) => col.name === c)?.nullable === false))
        .sort(([a], [b]) => cmp(a, b));
      if (candidates[0]) {
        info.primaryKey = candidates[0][1];
        info.fallbackKey = true;
      }
    }
    info.unpredictableKeyOrdering = info.primaryKey.some((k) => {
      const col = info.columns.find((c) => c.name === k);
      return !col || col.type.isArray || !predictableKeyOrder(col.type.name, col.type.typtype);
    });
  }
  return out;
}

/** The JSON types of each scalar type, as Estuary maps them (`postgresTypeToJSON`). */
const TYPE_TO_JSON: Record<string, { types?: string[]; format?: string; contentEncoding?: string; contentMediaType?: string }> = {
  bool: { types: ["boolean"] },
  int2: { types: ["integer"] },
  int4: { types: ["integer"] },
  int8: { types: ["integer"] },
  oid: { types: ["integer"] },
  numeric: { types: ["string"], format: "number" },
  float4: { types: ["number", "string"], format: "number" },
  float8: { types: ["number", "string"], format: "number" },
  varchar: { types: ["string"] },
  bpchar: { types: ["string"] },
  text: { types: ["string"] },
  citext: { types: ["string"] },
  bytea: { types: ["string"], contentEncoding: "base64" },
  xml: { types: ["string"] },
  bit: { types: ["string"] },
  varbit: { types: ["string"] },
  json: { contentMediaType: "application/json" },
  jsonb: { contentMediaType: "application/vnd.estuary.postgresql.jsonb+json" },
  jsonpath: { types: ["string"] },
  date: { types: ["string"], format: "date" },
  timestamp: { types: ["string"], format: "date-time" },
  timestamptz: { types: ["string"], format: "date-time" },
  time: { types: ["string"], format: "time" },
  timetz: { types: ["string"], format: "time" },
  interval: { types: ["string"] },
  money: { types: ["string"] },
  point: { types: ["string"] },
  line: { types: ["string"] },
  lseg: { types: ["string"] },
  box: { types: ["string"] },
  path: { types: ["string"] },
  polygon: { types: ["string"] },
  circle: { types: ["string"] },
  inet: { types: ["string"] },
  cidr: { types: ["string"] },
  macaddr: { types: ["string"] },
  macaddr8: { types: ["string"] },
  tsvector: { types: ["string"] },
  tsquery: { types: ["string"] },
  uuid: { types: ["string"], format: "uuid" },
};
const KEY_TYPE_TO_JSON: Record<string, { types?: string[]; format?: string; contentEncoding?: string; contentMediaType?: string }> = {
  float4: { types: ["string"], format: "number" },
  float8: { types: ["string"], format: "number" },
};

/** True when values of this scalar type are translated (arrays of it are parsed); others stay text. */
export function knownScalarType(name: string): boolean {
  return name in TYPE_TO_JSON;
}

type Schema = Record<string, unknown>;

/** The type name Estuary's descriptions show: `_int4` for arrays, `enum`, `range`, `composite`. */
function typeLabel(column: ColumnInfo): string {
  const t = column.type;
  if (t.typtype === "e") return "enum";
  if (t.typtype === "r") return "range";
  if (t.typtype === "m") return "multirange";
  if (t.typtype === "c") return "composite";
  return (t.isArray ? "_" : "") + t.name;
}

function withTypes(types: string[] | undefined, nullable: boolean): { type?: string | string[] } {
  if (!types) return {};
  const all = nullable ? [...types, "null"] : [...types];
  return { type: all.length === 1 ? all[0]! : all };
}

/** A column's JSON schema (Estuary's `TranslateDBToJSONType`), or undefined for an unknown type. */
function columnSchema(column: ColumnInfo, isKey: boolean, fullWriteSchema: boolean): Schema {
  const t = column.type;
  const scalar = (nullable: boolean): Schema | undefined => {
    if (t.typtype === "e" || t.typtype === "r" || t.typtype === "m") return withTypes(["string"], nullable);
    if (t.typtype === "c") return {};
    const mapped = (isKey && KEY_TYPE_TO_JSON[t.name]) || TYPE_TO_JSON[t.name];
    if (!mapped) return undefined;
    const schema: Schema = { ...withTypes(mapped.types, nullable) };
    if (column.charLength !== undefined && column.charLength > 0 && (t.name === "varchar" || t.name === "bpchar")) {
      schema.maxLength = column.charLength;
      if (t.name === "bpchar") schema.minLength = column.charLength;
    }
    if (mapped.format) schema.format = mapped.format;
    if (mapped.contentEncoding) schema.contentEncoding = mapped.contentEncoding;
    if (mapped.contentMediaType) schema.contentMediaType = mapped.contentMediaType;
    return schema;
  };
  let schema: Schema | undefined;
  if (t.isArray) {
    const items = scalar(true);
    if (items) schema = { items, ...withTypes(["array"], column.nullable) };
  } else {
    schema = scalar(column.nullable);
  }
  const label = typeLabel(column);
  let description = column.description ?? "";
  if (!schema) {
    schema = {};
    description = `using catch-all schema (unable to translate PostgreSQL type ${JSON.stringify(label)} into JSON schema)`;
  }
  if (!fullWriteSchema && Array.isArray(schema.type) && schema.type.length > 1) schema.type = (schema.type as string[]).filter((x) => x !== "null");
  schema.description = `${description ? description + " " : ""}(source type: ${column.nullable ? "" : "non-nullable "}${label})`;
  return schema;
}

/** Go's `strings.Title`: upper-cases each letter that follows a separator (not a letter, digit or `_`). */
function goTitle(s: string): string {
  let out = "";
  let prevSeparator = true;
  for (const ch of s) {
    out += prevSeparator ? ch.toUpperCase() : ch;
    prevSeparator = !/[\p{L}\p{N}_]/u.test(ch);
  }
  return out;
}

/** `_meta.source`'s schema (Estuary's `postgresSource`). */
function sourceSchema(config: Config, fullWriteSchema: boolean): Schema {
  const properties: Schema = {
    ts_ms: { type: "integer", description: "Unix timestamp (in millis) at which this event was recorded by the database." },
    schema: { type: "string", description: "Database schema (namespace) of the event." },
    snapshot: { type: "boolean", description: "Snapshot is true if the record was produced from an initial table backfill and unset if produced from the replication log." },
    table: { type: "string", description: "Database table of the event." },
    loc: {
      items: { type: "integer" },
      type: "array",
      maxItems: 3,
      minItems: 3,
      description: "Location of this WAL event as [last Commit.EndLSN; event LSN; current Begin.FinalLSN]. See https://www.postgresql.org/docs/current/protocol-logicalrep-message-formats.html",
    },
    txid: { type: "integer", description: "The 32-bit transaction ID assigned by Postgres to the commit which produced this change." },
  };
  if (config.sourceTag) properties.tag = { type: "string", description: "Optional 'Source Tag' property as defined in the endpoint configuration." };
  const schema: Schema = { properties, ...(fullWriteSchema ? {} : { additionalProperties: false }), type: "object", required: ["schema", "table", "loc"] };
  if (fullWriteSchema && config.historyMode) schema.reduce = { strategy: "lastWriteWins", associative: false };
  return schema;
}

/**
 * The collection schema of a table (Estuary's `generateCollectionSchema`): the columns under a
 * `$defs` anchor, `_meta` with `op`, `source` and `before`, deletions reduced away. With
 * `fullWriteSchema` false it is the stricter schema sent as a `sourcedSchema`.
 */
export function collectionSchema(table: TableInfo, config: Config, fullWriteSchema: boolean): { schema: Schema; key: string[] } {
  const keyColumns = table.primaryKey.some((k) => table.columns.find((c) => c.name === k)?.omit) ? [] : table.primaryKey;
  const anchor = goTitle(table.schema) + goTitle(table.table);
  const properties: Schema = {};
  const required: string[] = [];
  for (const column of table.columns) {
    if (column.omit) continue;
    const isKey = keyColumns.includes(column.name);
    properties[column.name] = columnSchema(column, isKey, fullWriteSchema);
    if (!fullWriteSchema || isKey) required.push(column.name);
  }
  required.sort(cmp);
  const before: Schema = { $ref: `#${anchor}`, description: "Record state immediately before this change was applied." };
  if (fullWriteSchema) before.reduce = { strategy: "firstWriteWins" };
  else before.unevaluatedProperties = false;
  const meta: Schema = {
    type: "object",
    required: ["op", "source"],
    properties: {
      before,
      op: { enum: ["c", "d", "u"], description: "Change operation type: 'c' Create/Insert, 'u' Update, 'd' Delete." },
      source: sourceSchema(config, fullWriteSchema),
    },
    ...(fullWriteSchema ? { reduce: { strategy: "merge" } } : { additionalProperties: false }),
  };
  const metadata: Schema = fullWriteSchema
    ? {
        if: { properties: { _meta: { properties: { op: { const: "d" } } } } },
        then: { reduce: { delete: true, strategy: "merge" } },
        else: { reduce: { strategy: "merge" } },
        required: ["_meta"],
        properties: { _meta: meta },
      }
    : { required: ["_meta"], properties: { _meta: meta } };
  const schema: Schema = {
    $defs: { [anchor]: { type: "object", required, $anchor: anchor, properties } },
    allOf: [metadata, { $ref: `#${anchor}` }],
    ...(config.flags.useSchemaInference ? { "x-infer-schema": true } : {}),
    ...(fullWriteSchema ? {} : { unevaluatedProperties: false }),
  };
  return { schema, key: keyColumns.map((k) => "/" + k.replace(/~/g, "~0").replace(/\//g, "~1")) };
}

/** The key used when a table has none: the change's WAL location. */
export const FALLBACK_KEY = ["/_meta/source/loc/0", "/_meta/source/loc/1", "/_meta/source/loc/2"];

/** A collection name part: lowercased, characters outside `[a-z0-9-_.]` as `_` (Estuary's). */
function sanitize(part: string): string {
  const out = part.toLowerCase().replace(/[^a-z0-9\-_.]/gi, "_");
  return out === "." || out === ".." ? out.replace(/\./g, "_") : out;
}

/** One discovered binding per table (Estuary's `DiscoverCatalog`). */
export function discoveredBindings(tables: Map<string, TableInfo>, config: Config): DiscoveredBinding[] {
  const bindings: DiscoveredBinding[] = [];
  const sorted = [...tables.values()].sort((a, b) => cmp(a.id, b.id));
  for (const table of sorted) {
    if (table.columns.some((c) => c.name === MATERIALIZED_COLUMN) || FLOW_TABLES.includes(table.table)) continue;
    const { schema, key } = collectionSchema(table, config, true);
    const keyless = key.length === 0;
    bindings.push({
      recommendedName: `${sanitize(table.schema)}/${sanitize(table.table)}`,
      resourceConfig: { ...(keyless ? { mode: "Without Primary Key" } : {}), namespace: table.schema, stream: table.table },
      documentSchema: schema,
      key: keyless ? FALLBACK_KEY : key,
      resourcePath: [table.schema, table.table],
      ...(keyless || table.fallbackKey ? { isFallbackKey: true } : {}),
    });
  }
  return bindings;
}
