import type pg from "pg";
import { FlowcapError } from "flowcap";
import { quoteIdentifier, quoteTable } from "./api/connection.js";
import { copyTapOf, type CopyDataTap, type RowSink } from "./api/copyTap.js";
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

/** What a COPY's result goes to. */
export interface CopyConsumer extends RowSink {
  /** The result's columns, before any row. */
  describe(names: string[], typeOids: number[]): void;
  /**
   * Asked after each batch of rows: a promise when reading must pause until it resolves (what
   * the rows became is not yet written out), else undefined.
   */
  backpressure?(): Promise<void> | undefined;
}

/**
 * Where a backfill's documents go. A long-lived object rather than callbacks made per chunk: the
 * row path calls its methods, and a new closure per chunk would make V8 throw away the row
 * path's optimized code at each chunk ("wrong call target") and compile it again.
 */
export interface DocumentSink {
  /** Takes one backfill document: the bytes `bytes[0, end)`, valid only during the call. */
  document(binding: number, bytes: Buffer, end: number): void;
  /**
   * Asked after each batch of rows: a promise when reading must pause until it resolves (what
   * the rows became is not yet written out), else undefined.
   */
  backpressure(): Promise<void> | undefined;
}

/**
 * Runs `describe; COPY (…) TO STDOUT` as one simple query, a pg "Submittable": the first
 * statement (`SELECT * … LIMIT 0`) gives the result's column names and types, which COPY does not
 * send, and both statements run in one implicit transaction, whose lock on the table keeps its
 * columns from changing in between. The COPY's rows reach the consumer a batch per socket read,
 * straight from the socket's bytes through the connection's tap (`api/copyTap.ts`), or one by
 * one from pg's parser on a connection without one; their bytes are not written to again.
 */
class CopyStream implements RowSink {
  private described = false;
  private socket: { pause(): void; resume(): void } | undefined;
  private paused = false;
  private error: Error | undefined;
  readonly done: Promise<void>;
  private resolve!: () => void;
  private reject!: (e: Error) => void;

  constructor(
    private readonly text: string,
    private readonly consumer: CopyConsumer,
    private readonly tap: CopyDataTap | undefined,
  ) {
    this.done = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  submit(connection: { query(text: string): void; stream?: { pause(): void; resume(): void } }): void {
    this.socket = connection.stream;
    // Set before the query is sent: every CopyData from here to its ReadyForQuery is this query's.
    if (this.tap !== undefined) this.tap.sink = this;
    connection.query(this.text);
  }
  handleRowDescription(msg: { fields: { name: string; dataTypeID: number }[] }): void {
    if (this.error) return;
    try {
      this.consumer.describe(
        msg.fields.map((f) => f.name),
        msg.fields.map((f) => f.dataTypeID),
      );
      this.described = true;
    } catch (error) {
      this.error = error as Error;
    }
  }
  handleCopyData(msg: { chunk: Buffer }): void {
    // Without a tap: pg's parser may reuse the bytes of its view, so the row gets its own.
    this.rows(Buffer.from(msg.chunk), new Int32Array([0]), new Int32Array([msg.chunk.length]), 1);
  }
  /** Rows, from the tap or from pg's parser; never throws (the tap's sink must not). */
  rows(buf: Buffer, starts: Int32Array, ends: Int32Array, count: number): void {
    if (this.error) return;
    try {
      if (!this.described) throw new FlowcapError("INTERNAL", "internal error: a backfill row arrived before its columns were described");
      this.consumer.rows(buf, starts, ends, count);
      if (!this.paused && this.socket !== undefined) {
        const wait = this.consumer.backpressure?.();
        if (wait !== undefined) this.pauseUntil(wait);
      }
    } catch (error) {
      this.error = error as Error;
    }
  }
  private pauseUntil(wait: Promise<void>): void {
    // The rows of the socket's current read still come; the next read waits.
    this.paused = true;
    this.socket!.pause();
    void wait.then(() => {
      this.paused = false;
      this.socket!.resume();
    });
  }
  handleDataRow(): void {}
  handleCommandComplete(): void {}
  handleEmptyQuery(): void {}
  handleError(error: Error): void {
    this.error ??= error;
  }
  handleReadyForQuery(): void {
    if (this.tap !== undefined && this.tap.sink === this) this.tap.sink = undefined;
    if (this.error) this.reject(this.error);
    else this.resolve();
  }
  handlePortalSuspended(): void {}
  handleCopyInResponse(): void {}
}

/**
 * Runs `select` (a `SELECT * FROM <table> …`) through COPY: the consumer gets the result's
 * columns, then its rows in COPY's text format, synchronously as they arrive: a chunk is never
 * held as rows. The consumer's backpressure pauses the socket while its documents wait to be written.
 */
export async function copyRows(client: pg.Client, table: TableInfo, select: string, consumer: CopyConsumer): Promise<void> {
  const stream = new CopyStream(`SELECT * FROM ${quoteTable(table.schema, table.table)} LIMIT 0; COPY (${select}) TO STDOUT`, consumer, copyTapOf(client));
  void client.query(stream as unknown as pg.QueryConfig);
  await stream.done;
}

/**
 * Each table's documents for the result shape its last chunk had: chunks of one table share
 * them, so V8 compiles the shape's document writer once for the whole backfill (a chunk's rows
 * are too few to repay compiling it again).
 */
const shapes = new WeakMap<TableInfo, { key: string; documents: CopyDocuments }>();

function documentsFor(table: TableInfo, names: string[], typeOids: number[]): CopyDocuments {
  const key = JSON.stringify([names, typeOids]);
  const known = shapes.get(table);
  if (known?.key === key) return known.documents;
  // Generated columns are left out: replication cannot see them, so backfills must not either.
  const kept = names.map((n) => (table.columns.find((c) => c.name === n)?.omit ? undefined : n));
  const documents = new CopyDocuments(
    kept,
    names.map((n, i) => columnTranscoder(table, n, typeOids[i], table.primaryKey.includes(n))),
  );
  shapes.set(table, { key, documents });
  return documents;
}

/**
 * One chunk's rows becoming documents (`_meta.op` c, `source.snapshot` true, `loc` [-1, row
 * offset, 0]), and what the chunk ends with: its row count and last row.
 */
class ChunkDocuments implements CopyConsumer {
  documents: CopyDocuments | undefined;
  keyIndexes: number[] = [];
  kinds: KeyKind[] = [];
  rowCount = 0;
  // The last row, for the resume key (its bytes stay as they are).
  last: Buffer = EMPTY;
  lastStart = 0;
  lastEnd = 0;
  private offset: number;
  private readonly metaHead: Buffer;
  private readonly metaTail: Buffer;

  constructor(
    private readonly table: TableInfo,
    private readonly keyColumns: string[],
    backfilled: number,
    sourceTag: string,
    private readonly binding: number,
    private readonly sink: DocumentSink,
  ) {
    this.offset = backfilled;
    this.metaHead = Buffer.from(`{"op":"c","source":{"schema":${JSON.stringify(table.schema)},"snapshot":true,"table":${JSON.stringify(table.table)},"loc":[-1,`, "utf8");
    this.metaTail = Buffer.from(`,0]${sourceTag ? `,"tag":${JSON.stringify(sourceTag)}` : ""}}}`, "utf8");
  }

  describe(names: string[], typeOids: number[]): void {
    const { table } = this;
    this.documents = documentsFor(table, names, typeOids);
    this.keyIndexes = this.keyColumns.map((k) => {
      const at = names.indexOf(k);
      if (at < 0) {
        throw new FlowcapError(
          "CAPTURE_FAILED",
          `key column ${JSON.stringify(k)} not found in result columns for ${JSON.stringify(table.id)} (got columns: [${names.join(", ")}]): the backfill query uses SELECT * which must return all key columns. Common causes: (1) the capture user lacks table-level SELECT and only has column-level grants that don't include this column, (2) row-level security (RLS) policies are restricting query results`,
        );
      }
      return at;
    });
    this.kinds = this.keyColumns.map((k) => keyKind(table.columns.find((c) => c.name === k)?.type.name ?? "text"));
  }

  rows(buf: Buffer, starts: Int32Array, ends: Int32Array, count: number): void {
    const documents = this.documents!;
    const { document } = documents;
    const { metaHead, metaTail, sink, binding } = this;
    let offset = this.offset;
    for (let i = 0; i < count; i++) {
      const end = document(buf, starts[i]!, ends[i]!, metaHead, offset, metaTail);
      sink.document(binding, documents.out, end);
      offset++;
    }
    this.offset = offset;
    this.rowCount += count;
    this.last = buf;
    this.lastStart = starts[count - 1]!;
    this.lastEnd = ends[count - 1]!;
  }

  backpressure(): Promise<void> | undefined {
    return this.sink.backpressure();
  }
}

const EMPTY = Buffer.alloc(0);

/**
 * Reads one chunk of a table, giving each row's backfill document to `sink` for `binding`.
 * Returns how many rows, whether the table is done, and where the next chunk starts.
 */
export async function scanChunk(client: pg.Client, request: ChunkRequest, sourceTag: string, binding: number, sink: DocumentSink): Promise<ChunkResult> {
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

  const chunk = new ChunkDocuments(table, keyColumns, state.backfilled, sourceTag, binding, sink);
  await copyRows(client, table, sql, chunk);
  const rows = chunk.rowCount;
  if (keyless) {
    const complete = untilPage >= maxPage;
    return { rows, complete, scanned: Buffer.from(`(${untilPage},0)`).toString("base64") };
  }
  const complete = rows < request.chunkSize;
  let scanned = state.scanned;
  if (rows > 0) {
    const texts = rowTexts(chunk.last, chunk.lastStart, chunk.lastEnd, chunk.documents!.columns);
    scanned = encodeKey(chunk.kinds, chunk.keyIndexes.map((i) => texts[i]!)).toString("base64");
  }
  return { rows, complete, scanned };
}
