import type pg from "pg";
import { FlowcapError } from "flowcap";
import { quoteIdentifier, quoteTable } from "./api/connection.js";
import type { TableInfo } from "./discovery.js";
import { CopyDocuments, rowTexts } from "./copyText.js";
import { columnTranscoder } from "./documents.js";
import { decodeKey, encodeKey, keyKind, type KeyKind } from "./keys.js";
import type { TableState } from "./models.js";

/**
 * Backfill chunks (Estuary's `backfill.go` `ScanTableChunk`): keyed tables are read in key order,
 * `backfill_chunk_size` rows at a time, resuming after the last key read; keyless tables by
 * ranges of CTID pages. Chunks are read with `COPY (SELECT …) TO STDOUT`, and each row goes from
 * the socket straight into its document's bytes (`copyText.ts`): the result is never held as
 * rows, and no value goes through pg's type parsers.
 */

/** Quotes a text value as an SQL literal (standard_conforming_strings is on since PostgreSQL 9.1). */
function literal(value: string | null): string {
  return value === null ? "NULL" : `'${value.replace(/'/g, "''")}'`;
}

export interface ChunkRequest {
  table: TableInfo;
  state: TableState;
  chunkSize: number;
  filter: string;
}

export interface ChunkResult {
  rows: number;
  complete: boolean;
  /** The resume key (base64), or the CTID text for keyless backfills. */
  scanned: string | null;
}

/** The keyed chunk query, as Estuary's `buildScanQuery` (key values inlined as literals). */
export function keyedQuery(table: TableInfo, keyColumns: string[], after: (string | null)[] | undefined, chunkSize: number, filter: string): string {
  const keys = keyColumns.map(quoteIdentifier).join(", ");
  const where: string[] = [];
  if (after) where.push(`(${keys}) > (${after.map(literal).join(", ")})`);
  if (filter) where.push(`(${filter})`);
  return `SELECT * FROM ${quoteTable(table.schema, table.table)}${where.length ? ` WHERE ${where.join(" AND ")}` : ""} ORDER BY ${keys} LIMIT ${chunkSize}`;
}

/** Table size estimates for CTID chunking (Estuary's `queryTableStatistics`). */
async function maxPageId(client: pg.Client, table: TableInfo): Promise<{ maxPage: number; partitions: number }> {
  const row = (
    await client.query<{ max_page_id: string; partition_count: number }>(
      `SELECT CEIL(1.05*GREATEST((pg_relation_size(c.oid) / current_setting('block_size')::int),
                COALESCE((SELECT MAX(pg_relation_size(inhrelid) / current_setting('block_size')::int) FROM pg_inherits WHERE inhparent = c.oid), 0)))::bigint AS max_page_id,
              (SELECT COUNT(inhrelid)::int + 1 FROM pg_inherits WHERE inhparent = c.oid) AS partition_count
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2`,
      [table.schema, table.table],
    )
  ).rows[0];
  if (!row) throw new FlowcapError("CAPTURE_FAILED", `table ${JSON.stringify(table.id)} not found when estimating its size`);
  return { maxPage: Number(row.max_page_id), partitions: row.partition_count };
}

/**
 * Runs `describe; COPY (…) TO STDOUT` as one simple query, a pg "Submittable": the first
 * statement (`SELECT * … LIMIT 0`) gives the result's column names and types, which COPY does not
 * send, and both statements run in one implicit transaction, whose lock on the table keeps its
 * columns from changing in between. Each COPY row reaches `onRow` as the CopyData buffer pg's
 * parser made, valid only during the call.
 */
class CopyStream {
  private described = false;
  private socket: { pause(): void; resume(): void } | undefined;
  private paused = false;
  private error: Error | undefined;
  readonly done: Promise<void>;
  private resolve!: () => void;
  private reject!: (e: Error) => void;

  constructor(
    private readonly text: string,
    private readonly onDescription: (names: string[], typeOids: number[]) => void,
    private readonly onRow: (row: Buffer) => void,
    private readonly backpressure: Backpressure | undefined,
  ) {
    this.done = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  submit(connection: { query(text: string): void; stream?: { pause(): void; resume(): void } }): void {
    this.socket = connection.stream;
    connection.query(this.text);
  }
  handleRowDescription(msg: { fields: { name: string; dataTypeID: number }[] }): void {
    if (this.error) return;
    try {
      this.onDescription(
        msg.fields.map((f) => f.name),
        msg.fields.map((f) => f.dataTypeID),
      );
      this.described = true;
    } catch (error) {
      this.error = error as Error;
    }
  }
  handleCopyData(msg: { chunk: Buffer }): void {
    if (this.error) return;
    try {
      if (!this.described) throw new FlowcapError("INTERNAL", "internal error: a backfill row arrived before its columns were described");
      this.onRow(msg.chunk);
      if (!this.paused && this.socket !== undefined && this.backpressure !== undefined) {
        const wait = this.backpressure();
        if (wait !== undefined) {
          // The rows of the socket's current read still come; the next read waits.
          this.paused = true;
          this.socket.pause();
          void wait.then(() => {
            this.paused = false;
            this.socket!.resume();
          });
        }
      }
    } catch (error) {
      this.error = error as Error;
    }
  }
  handleDataRow(): void {}
  handleCommandComplete(): void {}
  handleEmptyQuery(): void {}
  handleError(error: Error): void {
    this.error ??= error;
  }
  handleReadyForQuery(): void {
    if (this.error) this.reject(this.error);
    else this.resolve();
  }
  handlePortalSuspended(): void {}
  handleCopyInResponse(): void {}
}

/**
 * Asked after each row: a promise when reading must pause until it resolves (what the rows
 * became is not yet written out), else undefined.
 */
export type Backpressure = () => Promise<void> | undefined;

/**
 * Runs `select` (a `SELECT * FROM <table> …`) through COPY, calling `onDescription` with the
 * result's columns, then `onRow` with each row in COPY's text format, synchronously as they
 * arrive: a chunk is never held as rows. `backpressure` pauses the socket while the documents
 * wait to be written.
 */
export async function copyRows(client: pg.Client, table: TableInfo, select: string, onDescription: (names: string[], typeOids: number[]) => void, onRow: (row: Buffer) => void, backpressure?: Backpressure): Promise<void> {
  const stream = new CopyStream(`SELECT * FROM ${quoteTable(table.schema, table.table)} LIMIT 0; COPY (${select}) TO STDOUT`, onDescription, onRow, backpressure);
  void client.query(stream as unknown as pg.QueryConfig);
  await stream.done;
}

/** Receives one backfill document: the bytes `bytes[0, end)`, valid only during the call. */
export interface EmitDocument {
  (bytes: Buffer, end: number): void;
}

/**
 * Reads one chunk of a table, emitting each row as a backfill document (`_meta.op` c,
 * `source.snapshot` true, `loc` [-1, row offset, 0]). Returns how many rows, whether the
 * table is done, and where the next chunk starts.
 */
export async function scanChunk(client: pg.Client, request: ChunkRequest, sourceTag: string, emit: EmitDocument, backpressure?: Backpressure): Promise<ChunkResult> {
  const { table, state } = request;
  const keyless = state.mode === "KeylessBackfill";
  const keyColumns = state.key_columns ?? [];
  let sql: string;
  let untilPage = 0;
  let maxPage = 0;
  if (keyless) {
    const stats = await maxPageId(client, table);
    maxPage = stats.maxPage;
    const after = state.scanned ? Buffer.from(state.scanned, "base64").toString("utf8") : "(0,0)";
    const afterPage = Number(/^\((\d+),/.exec(after)?.[1] ?? 0);
    untilPage = afterPage + Math.floor(request.chunkSize / (100 * stats.partitions)) + 1;
    const where = [`ctid > '${after}'`, `ctid <= '(${untilPage},0)'`];
    if (request.filter) where.push(`(${request.filter})`);
    sql = `SELECT * FROM ${quoteTable(table.schema, table.table)} WHERE ${where.join(" AND ")}`;
  } else {
    if (keyColumns.length === 0) throw new FlowcapError("CAPTURE_FAILED", `table ${JSON.stringify(table.id)} has no key columns to backfill by`);
    const after = state.scanned ? decodeKey(Buffer.from(state.scanned, "base64")) : undefined;
    if (after && after.length !== keyColumns.length) throw new FlowcapError("CAPTURE_FAILED", `expected ${keyColumns.length} resume-key values but got ${after.length}`);
    sql = keyedQuery(table, keyColumns, after, request.chunkSize, request.filter);
  }

  let documents: CopyDocuments | undefined;
  let keyIndexes: number[] = [];
  let kinds: KeyKind[] = [];
  // The last row, copied (pg's parser reuses its buffer), for the resume key.
  let last = Buffer.allocUnsafe(256);
  let lastLength = 0;
  let rows = 0;
  let offset = state.backfilled;
  const metaHead = Buffer.from(`{"op":"c","source":{"schema":${JSON.stringify(table.schema)},"snapshot":true,"table":${JSON.stringify(table.table)},"loc":[-1,`, "utf8");
  const metaTail = Buffer.from(`,0]${sourceTag ? `,"tag":${JSON.stringify(sourceTag)}` : ""}}}`, "utf8");
  await copyRows(
    client,
    table,
    sql,
    (names, typeOids) => {
      // Generated columns are left out: replication cannot see them, so backfills must not either.
      const kept = names.map((n) => (table.columns.find((c) => c.name === n)?.omit ? undefined : n));
      documents = new CopyDocuments(
        kept,
        names.map((n, i) => columnTranscoder(table, n, typeOids[i], table.primaryKey.includes(n))),
      );
      keyIndexes = keyColumns.map((k) => {
        const at = names.indexOf(k);
        if (at < 0) {
          throw new FlowcapError(
            "CAPTURE_FAILED",
            `key column ${JSON.stringify(k)} not found in result columns for ${JSON.stringify(table.id)} (got columns: [${names.join(", ")}]): the backfill query uses SELECT * which must return all key columns. Common causes: (1) the capture user lacks table-level SELECT and only has column-level grants that don't include this column, (2) row-level security (RLS) policies are restricting query results`,
          );
        }
        return at;
      });
      kinds = keyColumns.map((k) => keyKind(table.columns.find((c) => c.name === k)?.type.name ?? "text"));
    },
    (row) => {
      emit(documents!.out, documents!.document(row, metaHead, offset, metaTail));
      offset++;
      rows++;
      if (!keyless) {
        if (row.length > last.length) last = Buffer.allocUnsafe(2 * row.length);
        last.set(row); // TypedArray.set: Buffer.copy would call into C++ for every row
        lastLength = row.length;
      }
    },
    backpressure,
  );
  if (keyless) {
    const complete = untilPage >= maxPage;
    return { rows, complete, scanned: Buffer.from(`(${untilPage},0)`).toString("base64") };
  }
  const complete = rows < request.chunkSize;
  let scanned = state.scanned;
  if (rows > 0) {
    const texts = rowTexts(last.subarray(0, lastLength), documents!.columns);
    scanned = encodeKey(kinds, keyIndexes.map((i) => texts[i]!)).toString("base64");
  }
  return { rows, complete, scanned };
}
