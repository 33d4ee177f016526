// source-postgres against a real PostgreSQL (a throwaway cluster, as the tests start one), side
// by side in one run:
//  - replication: 300,000 changes (300 transactions of 1,000 inserts) read from a slot. Baseline:
//    pg_recvlogical, PostgreSQL's own C client, writing the pgoutput stream to /dev/null. The
//    connector: a session resumed at the slot's start, every change turned into a `captured`
//    line (and every commit into a checkpoint) until the checkpoint past the last commit.
//  - backfill: the same 300,000-row table. Baseline (and ceiling): `COPY … TO STDOUT` through psql
//    to /dev/null. The connector: a fresh binding backfilled in 50,000-row chunks, each read with
//    `COPY (SELECT … ORDER BY id LIMIT 50000) TO STDOUT` and followed by its watermark fence, to
//    its Active checkpoint.
//  - pgoutput decoding in process, over the same messages: the hand-written decoder the connector
//    uses, against pg-logical-replication's parser (the library the issue suggests), which it
//    does not use (see BENCHMARKS.md).
// Each reader gets its own slot, created before the changes, so every run reads the same WAL;
// the backfill's slots are dropped after each run, so any number of runs fits the cluster.
//
// BENCH_RUNS=n sets the number of alternating runs (default 3; 7 for the backfill, which is short). BENCH_POSTGRES_BUILDS adds other
// builds of the connector as candidates, side by side in the same run: `name=path,name=path`,
// each path the main.js of another commit's build, copied with its package.json into a folder
// inside this checkout (`mkdir -p old && cp package.json old/ && cp -r dist old/`, then
// `old/dist/connectors/source-postgres/main.js`): "flowcap" then resolves to that build, and pg
// to this checkout's node_modules.
import { execFileSync, spawn } from "node:child_process";
import { closeSync, constants as fsConstants, openSync, readFileSync, rmSync, unlinkSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import { build } from "esbuild";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const CHANGES = 300_000;
const PER_TRANSACTION = 1_000;
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const OTHER_BUILDS = (process.env.BENCH_POSTGRES_BUILDS ?? "")
  .split(",")
  .filter(Boolean)
  .map((entry) => {
    const [name, file] = entry.split("=");
    return { name, main: path.resolve(file) };
  });
const MAIN = path.join(root, "dist/connectors/source-postgres/main.js");

async function loadHelper() {
  // Inside the checkout, so that the bundle's imports (pg) resolve from node_modules.
  const dir = path.join(root, "dist/bench");
  const outfile = path.join(dir, "postgresCluster.mjs");
  await build({
    entryPoints: [path.join(root, "test/helpers/postgres.ts")],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    packages: "external",
    absWorkingDir: root,
  });
  const module = await import(outfile);
  return { ...module, cleanup: () => rmSync(outfile, { force: true }) };
}

function run(command, args, env, stdoutFd = "ignore") {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", stdoutFd, "pipe"], env: { ...process.env, ...env } });
    let err = "";
    child.stderr.on("data", (c) => (err += c));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`${path.basename(command)} exited ${code}: ${err}`))));
  });
}

/**
 * Runs the built connector on `state` until a checkpoint satisfies `done`, reading its stdout the
 * way a line reader does (split into lines, documents counted, checkpoints parsed); then kills it.
 * `ms` is the time from its `opened` (process started, connected, prerequisites checked, tables
 * discovered) to that checkpoint: the part that scales with the data.
 *
 * stdout is a pipe (a FIFO, which is a pipe once open) read into one reused buffer (net.Socket's
 * `onread`), lines found with `indexOf`, and only the lines that are not documents decoded: the
 * baseline's output goes to /dev/null, so this reader does the least a reader must that still
 * counts every document. (Reading with `child.stdout` as text, a new buffer and string per read
 * and a string per line, cost this machine's two shared cores 110–250 ms of CPU a backfill,
 * against 40–100 ms this way; BENCHMARKS.md.)
 */
function session(config, bindings, state, done, main = MAIN) {
  return new Promise((resolve, reject) => {
    const fifo = path.join(tmpdir(), `flowcap-bench-${process.pid}-${fifoCount++}`);
    execFileSync("mkfifo", [fifo]);
    // Open for reading first, without blocking, so that opening it for writing does not block.
    const readFd = openSync(fifo, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
    const writeFd = openSync(fifo, "w");
    unlinkSync(fifo);
    const child = spawn(process.execPath, [main], { stdio: ["pipe", writeFd, "pipe"], env: { ...process.env, LOG_LEVEL: "warn" } });
    closeSync(writeFd);
    let documents = 0;
    let stderr = "";
    let merged = state;
    let finished = false;
    let openedAt;
    let openedCpuMs;
    // A line begun in an earlier read: its pieces, copied (the read buffer is reused).
    let pending = [];
    child.stderr.on("data", (c) => (stderr += c));
    const onLine = (line) => {
      if (line[2] === 0x63 && line[3] === 0x61) {
        documents++; // {"captured"
        return;
      }
      const text = line.toString("utf8");
      if (text.startsWith('{"opened"')) {
        openedAt = performance.now();
        openedCpuMs = processCpuMs(child.pid);
      } else if (text.startsWith('{"checkpoint"')) {
        const update = JSON.parse(text).checkpoint.state.updated;
        merged = { ...merged, ...update, bindingStateV1: { ...merged.bindingStateV1, ...update.bindingStateV1 } };
        if (done(merged)) {
          finished = true;
          const ms = performance.now() - openedAt;
          const cpuMs = processCpuMs(child.pid);
          child.kill("SIGKILL");
          resolve({ documents, state: merged, ms, cpuMs: cpuMs - openedCpuMs });
        }
      }
    };
    const stdout = new net.Socket({
      fd: readFd,
      readable: true,
      writable: false,
      onread: {
        buffer: Buffer.allocUnsafe(1 << 20),
        callback(n, buf) {
          if (finished) return;
          const data = buf.subarray(0, n);
          let start = 0;
          if (pending.length > 0) {
            const nl = data.indexOf(10);
            if (nl < 0) {
              pending.push(Buffer.from(data));
              return;
            }
            pending.push(data.subarray(0, nl));
            const line = Buffer.concat(pending);
            pending = [];
            onLine(line);
            start = nl + 1;
          }
          for (;;) {
            if (finished) return;
            const nl = data.indexOf(10, start);
            if (nl < 0) break;
            if (data[start + 2] === 0x63 && data[start + 3] === 0x61) documents++;
            else onLine(data.subarray(start, nl));
            start = nl + 1;
          }
          if (start < n) pending.push(Buffer.from(data.subarray(start)));
        },
      },
    });
    child.on("close", (code) => {
      stdout.destroy();
      if (!finished) reject(new Error(`connector exited ${code} before it was done: ${stderr.slice(-2000)}`));
    });
    child.stdin.write(JSON.stringify({ spec: { connectorType: "LOCAL", config: {} } }) + "\n");
    child.stdin.write(
      JSON.stringify({
        open: {
          capture: { name: "acmeCo/bench", connectorType: "LOCAL", config, bindings, intervalSeconds: 300 },
          version: "bench",
          range: { keyBegin: 0, keyEnd: 4294967295, rClockBegin: 0, rClockEnd: 4294967295 },
          state,
        },
      }) + "\n",
    );
  });
}
let fifoCount = 0;

/** The CPU time (user and system, ms) a live process has used so far, from /proc (Linux only). */
function processCpuMs(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in clock ticks (USER_HZ 100)
  } catch {
    return NaN;
  }
}

const parseLsn = (text) => {
  const [hi, lo] = text.split("/");
  return parseInt(hi, 16) * 4294967296 + parseInt(lo, 16);
};

export async function postgresCases() {
  const helper = await loadHelper();
  // Slots: a pair per replication run, one for decoding, and the backfill's (dropped after each run).
  const pg = await helper.startPostgres({ settings: { max_wal_size: "'1GB'", max_replication_slots: 2 * RUNS + 16, max_wal_senders: 2 * RUNS + 16 } });
  const env = { PGPASSWORD: "postgres", PGHOST: pg.host, PGPORT: String(pg.port), PGUSER: "postgres", PGDATABASE: "postgres" };
  const bin = helper.postgresBinDir();
  await pg.sql(`CREATE SCHEMA bench`);
  await pg.sql(`CREATE TABLE bench.events (id bigint PRIMARY KEY, account int NOT NULL, amount numeric(12,2), note text, created_at timestamptz NOT NULL)`);
  await pg.sql(`CREATE TABLE public.flow_watermarks (slot TEXT PRIMARY KEY, watermark TEXT)`);
  await pg.sql(`CREATE PUBLICATION bench_pub FOR TABLE bench.events, public.flow_watermarks`);
  for (let i = 0; i < RUNS; i++) {
    await pg.sql(`SELECT pg_create_logical_replication_slot('raw_${i}', 'pgoutput')`);
    await pg.sql(`SELECT pg_create_logical_replication_slot('conn_${i}', 'pgoutput')`);
  }
  await pg.sql(`SELECT pg_create_logical_replication_slot('decode', 'pgoutput')`);
  const start = (await pg.sql(`SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = 'conn_0'`))[0].lsn;
  for (let t = 0; t < CHANGES / PER_TRANSACTION; t++) {
    const from = t * PER_TRANSACTION + 1;
    await pg.sql(
      `INSERT INTO bench.events SELECT g, g % 1000, (g * 1.25)::numeric(12,2), 'event number ' || g, '2024-05-01 12:00:00+00'::timestamptz + g * interval '1 second' FROM generate_series(${from}, ${from + PER_TRANSACTION - 1}) g`,
    );
  }
  const end = (await pg.sql(`SELECT pg_current_wal_insert_lsn()::text AS lsn`))[0].lsn;
  await pg.sql(`CHECKPOINT`);

  const config = (slotName) => ({
    address: `${pg.host}:${pg.port}`,
    user: "postgres",
    database: "postgres",
    credentials: { auth_type: "UserPassword", password: "postgres" },
    advanced: { publicationName: "bench_pub", slotName },
  });
  const binding = {
    resourceConfig: { namespace: "bench", stream: "events" },
    resourcePath: ["bench", "events"],
    collection: { name: "acmeCo/bench/events", key: ["/id"], writeSchema: { type: "object" } },
    backfill: 0,
    stateKey: "bench%2Fevents",
  };
  const activeState = { cursor: start, bindingStateV1: { "bench%2Fevents": { mode: "Active", key_columns: ["id"], scanned: null, backfilled: 0 } } };
  const devnull = openSync("/dev/null", "w");

  let rawRun = 0;
  let connRun = 0;
  const replication = {
    id: "postgres-replication",
    title: `source-postgres replication: ${CHANGES.toLocaleString("en")} changes from a slot (${CHANGES / PER_TRANSACTION} transactions)`,
    runs: RUNS,
    baseline: {
      name: "pg_recvlogical to /dev/null",
      fn: () => run(path.join(bin, "pg_recvlogical"), ["-d", "postgres", "--slot", `raw_${rawRun++}`, "--start", `--endpos=${end}`, "-o", "proto_version=1", "-o", "publication_names=bench_pub", "-f", "/dev/null", "--no-loop"], env),
    },
    candidates: [
      {
        name: "flowcap source-postgres (slot → captured lines)",
        fn: async () => {
          const out = await session(config(`conn_${connRun++}`), [binding], activeState, (s) => s.cursor && parseLsn(s.cursor) >= parseLsn(end));
          if (out.documents !== CHANGES) throw new Error(`captured ${out.documents} documents, expected ${CHANGES}`);
          return out.ms;
        },
      },
    ],
  };

  let backfillRun = 0;
  // The connector is killed at its Active checkpoint: its walsender may hold the slot a moment longer.
  const dropSlot = async (slot) => {
    for (let attempt = 0; ; attempt++) {
      try {
        await pg.sql(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '${slot}'`);
        return;
      } catch (error) {
        if (attempt >= 100) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  };
  // The connector's own CPU time in each run (from its `opened` to its Active checkpoint), by candidate.
  const connectorCpu = new Map();
  const backfillCandidate = (name, main) => ({
    name,
    fn: async () => {
      const slot = `fill_${backfillRun++}`;
      const out = await session(config(slot), [binding], {}, (s) => s.bindingStateV1?.["bench%2Fevents"]?.mode === "Active", main);
      await dropSlot(slot);
      if (out.documents < CHANGES) throw new Error(`captured ${out.documents} documents, expected ${CHANGES}`);
      connectorCpu.set(name, [...(connectorCpu.get(name) ?? []), out.cpuMs]);
      return out.ms;
    },
  });
  const backfill = {
    id: "postgres-backfill",
    title: `source-postgres backfill: ${CHANGES.toLocaleString("en")} rows`,
    // Under a second a run, so more runs: the median of 7 holds to a few hundredths on this shared machine.
    runs: Number(process.env.BENCH_RUNS ?? 7),
    baseline: { name: "psql COPY … TO STDOUT > /dev/null", fn: () => run(path.join(bin, "psql"), ["-Atq", "-c", "COPY bench.events TO STDOUT"], env, devnull) },
    candidates: [backfillCandidate("flowcap source-postgres (COPY chunks → captured lines)", MAIN), ...OTHER_BUILDS.map((b) => backfillCandidate(`flowcap source-postgres, ${b.name}`, b.main))],
    report() {
      process.stdout.write("\nThe connector process's CPU time (user + system, from its opened response to its Active checkpoint), each run:\n");
      for (const [name, runs] of connectorCpu) process.stdout.write(`- ${name}: ${runs.map((ms) => `${Math.round(ms)} ms`).join(", ")}\n`);
    },
  };

  // pgoutput decoding in process, over the same 300,000-change stream.
  const rows = await pg.sql(`SELECT data FROM pg_logical_slot_peek_binary_changes('decode', NULL, NULL, 'proto_version', '1', 'publication_names', 'bench_pub')`);
  const messages = rows.map((r) => r.data);
  const { decodeMessage } = await import(path.join(root, "dist/connectors/source-postgres/src/api/pgoutput.js"));
  const { PgoutputPlugin } = await import("pg-logical-replication");
  const decoding = {
    id: "postgres-decode",
    title: `pgoutput decoding: ${messages.length.toLocaleString("en")} messages in process`,
    runs: 5,
    baseline: {
      name: "pg-logical-replication PgoutputPlugin.parse",
      fn: () => {
        const plugin = new PgoutputPlugin({ protoVersion: 1, publicationNames: ["bench_pub"] });
        for (const m of messages) plugin.parse(m);
      },
    },
    candidates: [
      {
        name: "flowcap decodeMessage (source-postgres)",
        fn: () => {
          for (const m of messages) decodeMessage(m);
        },
      },
    ],
  };

  return {
    groups: [replication, backfill, decoding],
    async cleanup() {
      await pg.stop();
      helper.cleanup();
    },
  };
}
