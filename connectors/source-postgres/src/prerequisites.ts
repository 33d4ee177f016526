import type pg from "pg";
import { FlowcapError } from "flowcap";
import { quoteIdentifier, quoteTable } from "./api/connection.js";
import { publishedTables, type TableId } from "./discovery.js";
import { streamId, type Config } from "./models.js";

/**
 * The checks Estuary's connector runs before a capture (`prerequisites.go`), in its order. Every
 * failing one is reported, each with the SQL that fixes it, in one error:
 *
 *     the capture cannot run due to the following error(s):
 *      - logical replication isn't enabled: current wal_level = "replica"; fix: …
 */

const MAX_REPORTED = 20;

export class PrerequisitesError extends FlowcapError {
  constructor(readonly problems: string[]) {
    const shown = problems.slice(0, MAX_REPORTED).map((p) => ` - ${p}`);
    if (problems.length > MAX_REPORTED) shown.push(` - additional ${problems.length - MAX_REPORTED} errors omitted`);
    super("CONFIG_INVALID", `the capture cannot run due to the following error(s):\n${shown.join("\n")}`, { userFacing: true, data: { problems } });
  }
}

const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** The watermarks table as SQL: Estuary writes the configured name as it is. */
function watermarksSql(config: Config): string {
  return config.watermarksTable;
}

/** Checks the database-wide prerequisites; returns the problems found. */
export async function checkPrerequisites(client: pg.Client, config: Config): Promise<string[]> {
  const problems: string[] = [];
  const user = config.user;
  const version = Number((await client.query<{ server_version_num: string }>("SHOW server_version_num")).rows[0]!.server_version_num);
  if (version < 100000) {
    return [`minimum supported Postgres version is 10.0: attempted to capture from database version ${Math.floor(version / 10000)}.${Math.floor(version / 100) % 100}`];
  }

  const walLevel = (await client.query<{ wal_level: string }>("SHOW wal_level")).rows[0]!.wal_level;
  if (walLevel !== "logical") {
    problems.push(`logical replication isn't enabled: current wal_level = ${JSON.stringify(walLevel)}; fix: ALTER SYSTEM SET wal_level = logical; then restart PostgreSQL (RDS/Aurora: set rds.logical_replication = 1; Cloud SQL: the cloudsql.logical_decoding flag)`);
  }

  const role = (
    await client.query<{ replication: boolean }>(
      `SELECT COALESCE((SELECT rolreplication FROM pg_catalog.pg_roles WHERE rolname = $1), false)
           OR COALESCE((SELECT pg_has_role($1, oid, 'member') FROM pg_catalog.pg_roles WHERE rolname = 'rds_replication'), false) AS replication`,
      [user],
    )
  ).rows[0]!;
  if (!role.replication) {
    problems.push(`user ${JSON.stringify(user)} must have the REPLICATION role (or 'rds_replication' on RDS); fix: ALTER ROLE ${quoteIdentifier(user)} WITH REPLICATION; (RDS/Aurora: GRANT rds_replication TO ${quoteIdentifier(user)};)`);
  }

  const slot = (await client.query<{ database: string | null }>(`SELECT database FROM pg_catalog.pg_replication_slots WHERE slot_name = $1 AND slot_type = 'logical'`, [config.slotName])).rows[0];
  if (slot && slot.database !== config.database) {
    problems.push(
      `replication slot ${JSON.stringify(config.slotName)} exists in database ${JSON.stringify(slot.database)}, but the configured database is ${JSON.stringify(config.database)}: consider using a different slot name or removing the existing slot; fix: SELECT pg_drop_replication_slot(${lit(config.slotName)}); (run in database ${JSON.stringify(slot.database)})`,
    );
  } else if (!slot && !config.flags.createReplicationSlot) {
    problems.push(`replication slot ${JSON.stringify(config.slotName)} does not exist and the 'no_create_replication_slot' feature flag is set; fix: SELECT pg_create_logical_replication_slot(${lit(config.slotName)}, 'pgoutput');`);
  }

  const publication = (await client.query<{ n: string }>(`SELECT count(*) AS n FROM pg_catalog.pg_publication WHERE pubname = $1`, [config.publicationName])).rows[0]!;
  const publicationExists = Number(publication.n) > 0;
  if (!publicationExists) {
    problems.push(
      `publication ${JSON.stringify(config.publicationName)} does not exist; fix: CREATE PUBLICATION ${quoteIdentifier(config.publicationName)}; ALTER PUBLICATION ${quoteIdentifier(config.publicationName)} SET (publish_via_partition_root = true); ALTER PUBLICATION ${quoteIdentifier(config.publicationName)} ADD TABLE ${watermarksSql(config)}, <the tables to capture>;`,
    );
  }

  if (!config.readOnlyCapture) {
    const wm = watermarksSql(config);
    const write = () => client.query(`INSERT INTO ${wm} (slot, watermark) VALUES ($1, 'existence-check') ON CONFLICT (slot) DO UPDATE SET watermark = 'existence-check'`, [config.slotName]);
    let writable = await write().then(
      () => true,
      () => false,
    );
    if (!writable) {
      await client.query(`CREATE TABLE IF NOT EXISTS ${wm} (slot TEXT PRIMARY KEY, watermark TEXT)`).catch(() => {});
      writable = await write().then(
        () => true,
        () => false,
      );
    }
    if (!writable) {
      problems.push(
        `user ${JSON.stringify(user)} cannot write to the watermarks table ${JSON.stringify(config.watermarksTable)}; fix: CREATE TABLE IF NOT EXISTS ${wm} (slot TEXT PRIMARY KEY, watermark TEXT); GRANT ALL PRIVILEGES ON TABLE ${wm} TO ${quoteIdentifier(user)};`,
      );
    } else if (publicationExists) {
      const problem = await ensurePublished(client, config, config.watermarks, await publishedTables(client, config.publicationName));
      if (problem) problems.push(problem);
    }
  }
  return problems;
}

/** A table missing from the publication is added to it if the user may; else the problem. */
async function ensurePublished(client: pg.Client, config: Config, table: TableId, published: Set<string>): Promise<string | undefined> {
  if (published.has(streamId(table.schema, table.table))) return undefined;
  const sql = `ALTER PUBLICATION ${quoteIdentifier(config.publicationName)} ADD TABLE ${quoteTable(table.schema, table.table)}`;
  const added = await client.query(sql).then(
    () => true,
    () => false,
  );
  if (added) {
    published.add(streamId(table.schema, table.table));
    return undefined;
  }
  return `table ${JSON.stringify(`${table.schema}.${table.table}`)} is not in publication ${config.publicationName} and couldn't be added automatically; fix: ${sql};`;
}

/** Per-table checks: readable by the user, and in the publication (added when possible). */
export async function checkTablePrerequisites(client: pg.Client, config: Config, tables: TableId[]): Promise<string[]> {
  const problems: string[] = [];
  const publicationExists = Number((await client.query<{ n: string }>(`SELECT count(*) AS n FROM pg_catalog.pg_publication WHERE pubname = $1`, [config.publicationName])).rows[0]!.n) > 0;
  const published = publicationExists ? await publishedTables(client, config.publicationName) : new Set<string>();
  for (const table of tables) {
    const name = quoteTable(table.schema, table.table);
    const readable = await client.query(`SELECT * FROM ${name} LIMIT 0`).then(
      () => true,
      () => false,
    );
    if (!readable) {
      problems.push(`user ${JSON.stringify(config.user)} cannot read from table ${JSON.stringify(`${table.schema}.${table.table}`)}; fix: GRANT SELECT ON TABLE ${name} TO ${quoteIdentifier(config.user)}; (PostgreSQL 14+: GRANT pg_read_all_data TO ${quoteIdentifier(config.user)};)`);
      continue;
    }
    if (publicationExists) {
      const problem = await ensurePublished(client, config, table, published);
      if (problem) problems.push(problem);
    }
  }
  return problems;
}
