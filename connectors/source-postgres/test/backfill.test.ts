import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import pg from "pg";
import type { PostgresCluster } from "../../../test/helpers/postgres.js";
import { connect } from "../src/api/connection.js";
import { copyTapOf } from "../src/api/copyTap.js";
import { scanChunk, type DocumentSink } from "../src/backfill.js";
import { discoverTables } from "../src/discovery.js";
import { parseConfig, type TableState } from "../src/models.js";
import { bindingOf, CONNECTOR, createPublication, discover, endpointConfig, INTERNAL_SPEC, startCluster } from "./harness.js";

/**
 * Backfill chunks read through the connection's tap (rows straight from the socket's reads) must
 * give exactly the documents and resume keys of pg's own path, on a real server: rows with
 * COPY's escapes, multi-byte text, NULLs, and rows far larger than a socket read (split across
 * reads), with the socket paused for backpressure now and then.
 */

let cluster: PostgresCluster;
const ROWS = 3000;
beforeAll(async () => {
  // TLS on, as most real servers have it; plain TCP is still accepted.
  cluster = await startCluster({}, { tls: true });
  await cluster.sql(`CREATE TABLE test.mixed (id int PRIMARY KEY, t text, j jsonb, ts timestamptz, b bytea, f float8)`);
  await cluster.sql(`INSERT INTO test.mixed
    SELECT g,
      CASE WHEN g % 7 = 0 THEN NULL WHEN g % 5 = 0 THEN E'tab\\there\\nline\\\\back ' || g WHEN g % 3 = 0 THEN 'é…🎉 ' || g ELSE 'plain ' || g END,
      CASE WHEN g % 4 = 0 THEN NULL ELSE jsonb_build_object('g', g, 's', E'q"\\t') END,
      '2024-05-01 12:00:00+00'::timestamptz + g * interval '1 second',
      decode(md5(g::text), 'hex'),
      g / 3.0
    FROM generate_series(1, ${ROWS}) g`);
  // Rows larger than any socket read: each arrives split across several.
  await cluster.sql(`UPDATE test.mixed SET t = repeat('x', 300000) || id WHERE id % 500 = 1`);
});
afterAll(async () => cluster?.stop());

/** Backfills test.mixed in chunks of 700 and returns its documents and each chunk's resume key. */
async function backfill(client: pg.Client): Promise<{ documents: string[]; scanned: (string | null)[] }> {
  const tables = await discoverTables(client, [{ schema: "test", table: "mixed" }]);
  const table = tables.get("test.mixed")!;
  const documents: string[] = [];
  let batches = 0;
  const sink: DocumentSink = {
    document(binding, bytes, end) {
      expect(binding).toBe(3);
      documents.push(bytes.toString("utf8", 0, end));
    },
    // Every third batch, reading pauses until the next turn of the event loop.
    backpressure: () => (++batches % 3 === 0 ? new Promise((resolve) => setImmediate(resolve)) : undefined),
  };
  let state: TableState = { mode: "Backfill", key_columns: ["id"], scanned: null, backfilled: 0 };
  const scanned: (string | null)[] = [];
  for (;;) {
    const result = await scanChunk(client, { table, state, chunkSize: 700, filter: "" }, "", 3, sink);
    scanned.push(result.scanned);
    state = { ...state, scanned: result.scanned, backfilled: state.backfilled + result.rows };
    if (result.complete) break;
  }
  return { documents, scanned };
}

const isTls = (client: pg.Client): boolean => (client as unknown as { connection: { stream: object } }).connection.stream.constructor.name === "TLSSocket";

describe("backfill through the socket tap", () => {
  it.each(["disable", "require"] as const)("gives the documents and resume keys of pg's own path, and pg sees none of the rows (sslmode %s)", async (sslmode) => {
    const config = parseConfig(endpointConfig(cluster, { sslmode }));
    const tapped = await connect(config);
    const plain = await connect(config, { copyTap: false });
    try {
      expect([isTls(tapped), isTls(plain)]).toEqual([sslmode === "require", sslmode === "require"]);
      expect(copyTapOf(tapped)).toBeDefined();
      expect(copyTapOf(plain)).toBeUndefined();
      const seenByPg = new Map<pg.Client, number>();
      for (const client of [tapped, plain]) {
        seenByPg.set(client, 0);
        (client as unknown as { connection: pg.Connection }).connection.on("copyData", () => seenByPg.set(client, seenByPg.get(client)! + 1));
      }
      const viaTap = await backfill(tapped);
      const viaPg = await backfill(plain);
      expect(viaTap.documents.length).toBe(ROWS);
      expect(seenByPg.get(tapped)).toBe(0);
      expect(seenByPg.get(plain)).toBe(ROWS);
      expect(viaTap.scanned).toEqual(viaPg.scanned);
      for (let i = 0; i < ROWS; i++) expect(viaTap.documents[i], `row ${i + 1}`).toBe(viaPg.documents[i]);
      const docs = viaTap.documents.map((d) => JSON.parse(d) as { id: number; t: string | null; _meta: { source: { loc: number[] } } });
      expect(docs.map((d) => d.id)).toEqual(Array.from({ length: ROWS }, (_, i) => i + 1));
      expect(docs.map((d) => d._meta.source.loc[1])).toEqual(Array.from({ length: ROWS }, (_, i) => i));
      expect(docs[4]!.t).toBe("tab\there\nline\\back 5");
      expect(docs[2]!.t).toBe("é…🎉 3");
      expect(docs[500]!.t).toBe("x".repeat(300000) + "501");
      // Nothing is left for pg to misread: the connection still answers queries.
      expect((await tapped.query("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
    } finally {
      await tapped.end();
      await plain.end();
    }
  });
});

describe("connections", () => {
  it("ask a server that refused TLS only once per process, as libpq asks once per connection, and never fall back under sslmode require", async () => {
    const noTls = await startCluster();
    const config = parseConfig(endpointConfig(noTls));
    const attempts = vi.spyOn(pg.Client.prototype, "connect");
    try {
      const first = await connect(config);
      const before = attempts.mock.calls.length;
      const second = await connect(config);
      expect(attempts.mock.calls.length - before).toBe(1);
      for (const client of [first, second]) {
        expect(isTls(client)).toBe(false);
        await client.end();
      }
      await expect(connect(parseConfig(endpointConfig(noTls, { sslmode: "require" })))).rejects.toThrow(/SSL/);
      // A server that offers TLS gets it under the default (prefer).
      const secure = await connect(parseConfig(endpointConfig(cluster)));
      expect(isTls(secure)).toBe(true);
      await secure.end();
    } finally {
      attempts.mockRestore();
      await noTls.stop();
    }
  });
});

describe("a backfill while Flow does not read", () => {
  /** Bytes the process has read, from any file or socket (Linux's /proc/<pid>/io). */
  const bytesRead = (pid: number): number => Number(/^rchar: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, "utf8"))![1]);

  it.runIf(process.platform === "linux")("stops reading the table once 4 MiB of documents wait (the README's promise), and sends every row once stdout is read", async () => {
    const rows = 100_000;
    await cluster.sql(`CREATE TABLE test.wide (id int PRIMARY KEY, pad text)`);
    await cluster.sql(`INSERT INTO test.wide SELECT g, repeat('w', 600) FROM generate_series(1, ${rows}) g`); // ~60 MB
    await createPublication(cluster, "pub_wide", ["test.wide"]);
    const config = endpointConfig(cluster, { publicationName: "pub_wide", slotName: "slot_wide", backfill_chunk_size: rows });
    const discovered = (await discover(config)).find((d) => d.recommendedName === "test/wide")!;
    const child = spawn(CONNECTOR[0]!, CONNECTOR.slice(1), { stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, LOG_LEVEL: "warn" } });
    try {
      child.stderr.resume();
      // stdout is not read: its pipe fills, and the documents wait in the connector.
      child.stdin.write(JSON.stringify(INTERNAL_SPEC) + "\n");
      const binding = bindingOf(discovered);
      child.stdin.write(JSON.stringify({ open: { capture: { name: "acmeCo/wide", connectorType: "LOCAL", config, bindings: [binding], intervalSeconds: 300 }, version: "test", range: { keyBegin: 0, keyEnd: 4294967295, rClockBegin: 0, rClockEnd: 4294967295 }, state: {} } }) + "\n");

      // PostgreSQL ends up blocked writing the chunk: the connector stopped reading its socket...
      const blocked = async () => (await cluster.sql(`SELECT 1 FROM pg_stat_activity WHERE wait_event = 'ClientWrite' AND query LIKE '%COPY (SELECT%'`)).length > 0;
      for (let waited = 0; !(await blocked()); waited += 50) {
        expect(waited, "PostgreSQL never blocked on the connector").toBeLessThan(120_000);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      // ... and, once it has handled what it had read, reads no further (it would spill the chunk
      // to disk if it did): what it has read settles at a small part of the table's 60 MB.
      let read = bytesRead(child.pid!);
      for (let waited = 0; ; waited += 1000) {
        await new Promise((resolve) => setTimeout(resolve, 1000));
        const now = bytesRead(child.pid!);
        if (now === read) break;
        read = now;
        expect(waited, "the connector never stopped reading").toBeLessThan(120_000);
      }
      expect(read).toBeLessThan(25 * 1024 * 1024);

      // Once Flow reads, everything comes: every row, then the backfill's end.
      let documents = 0;
      let rest = "";
      const done = new Promise<void>((resolve) => {
        child.stdout.on("data", (chunk: Buffer) => {
          const lines = (rest + chunk.toString("utf8")).split("\n");
          rest = lines.pop()!;
          for (const line of lines) {
            if (line.startsWith('{"captured"')) documents++;
            else if (line.startsWith('{"checkpoint"') && line.includes('"mode":"Active"')) resolve();
          }
        });
      });
      await done;
      expect(documents).toBe(rows);
    } finally {
      child.kill("SIGKILL");
    }
  }, 180_000);
});
