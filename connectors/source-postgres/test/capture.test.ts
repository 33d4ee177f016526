import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Client } from "pg";
import type { PostgresCluster } from "../../../test/helpers/postgres.js";
import { parseLsn } from "../src/lsn.js";
import { bindingOf, createPublication, discover, endpointConfig, Reduced, runSession, startCluster, type DiscoveredBindingLike, type Doc, type KillPoint } from "./harness.js";

/**
 * Capture correctness against a real server, driven as Flow drives a connector: backfills that
 * race with concurrent changes end equal to the table, a SIGKILL anywhere loses nothing, and the
 * slot never confirms a position Flow has not acknowledged.
 */

let pg: PostgresCluster;
beforeAll(async () => {
  pg = await startCluster();
});
afterAll(async () => pg?.stop());

/** A small seeded generator (mulberry32), so a failure can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `ops` inserts, updates and deletes in transactions of 1 to 20 statements, spread over ids
 * 1..maxId (inserts above it), from a client of its own.
 */
async function workload(client: Client, table: string, ops: number, maxId: number, seed: number, pauseEvery = 50): Promise<void> {
  const random = rng(seed);
  let nextId = maxId + 1;
  let done = 0;
  while (done < ops) {
    const size = Math.min(ops - done, 1 + Math.floor(random() * 20));
    const statements: string[] = [];
    for (let i = 0; i < size; i++) {
      const r = random();
      const id = 1 + Math.floor(random() * maxId);
      if (r < 0.4) statements.push(`INSERT INTO ${table} VALUES (${nextId++}, ${Math.floor(random() * 1e6)}, 'new ${done + i}') ON CONFLICT (id) DO NOTHING`);
      else if (r < 0.8) statements.push(`UPDATE ${table} SET v = v + 1, s = 'upd ${done + i}' WHERE id = ${id}`);
      else statements.push(`DELETE FROM ${table} WHERE id = ${id}`);
    }
    await client.query(`BEGIN; ${statements.join("; ")}; COMMIT`);
    done += size;
    if (done % pauseEvery < size) await new Promise((r) => setTimeout(r, 1));
  }
}

/** The history of each row that differs, to debug a failure. */
function explainDifference(actual: Record<string, unknown>[], expected: Record<string, unknown>[], docs: Doc[]): string {
  const text = (r: Record<string, unknown>) => JSON.stringify([r.id, r.v, r.s]);
  const a = new Map(actual.map((r) => [r.id, text(r)]));
  const e = new Map(expected.map((r) => [r.id, text(r)]));
  const ids = [...new Set([...a.keys(), ...e.keys()])].filter((id) => a.get(id) !== e.get(id)).slice(0, 5);
  return ids.map((id) => `id ${id}: captured ${a.get(id)} table ${e.get(id)}\n  ${docs.filter((d) => d.id === id).map((d) => JSON.stringify(d)).join("\n  ")}`).join("\n");
}

async function tableRows(table: string): Promise<Record<string, unknown>[]> {
  return pg.sql(`SELECT id, v, s FROM ${table} ORDER BY id`);
}

/** The WAL insert position: past every commit so far (the write position lags it under asynchronous commit). */
async function currentLsn(): Promise<number> {
  return parseLsn((await pg.sql<{ lsn: string }>(`SELECT pg_current_wal_insert_lsn()::text AS lsn`))[0]!.lsn);
}

/** Waits until no process holds the slot (a killed connector's walsender notices its socket closed). */
async function slotReleased(slot: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const rows = await pg.sql<{ active: boolean }>(`SELECT active FROM pg_replication_slots WHERE slot_name = $1`, [slot]);
    if (!rows[0]?.active) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`slot ${slot} stayed active`);
}

function caughtUp(state: Record<string, unknown>, target: number | undefined): boolean {
  const tables = Object.values((state.bindingStateV1 ?? {}) as Record<string, { mode: string }>);
  const cursor = state.cursor as string | null | undefined;
  return target !== undefined && tables.length > 0 && tables.every((t) => t.mode === "Active" || t.mode === "Ignore") && !!cursor && parseLsn(cursor) >= target;
}

async function setupTable(name: string, rows: number): Promise<{ table: string; config: ReturnType<typeof endpointConfig>; discovered: DiscoveredBindingLike }> {
  const table = `test.${name}`;
  await pg.sql(`CREATE TABLE ${table} (id int PRIMARY KEY, v int NOT NULL, s text)`);
  await pg.sql(`INSERT INTO ${table} SELECT g, g * 7 % 1000, 'row ' || g FROM generate_series(1, ${rows}) g`);
  await createPublication(pg, `pub_${name}`, [table]);
  const config = endpointConfig(pg, { publicationName: `pub_${name}`, slotName: `slot_${name}`, backfill_chunk_size: 5000 });
  const [discovered] = await discover(config);
  return { table, config, discovered: discovered! };
}

describe("source-postgres capture", () => {
  it("backfills 100,000 rows while 10,000 inserts, updates and deletes run, and ends equal to the table", async () => {
    const { table, config, discovered } = await setupTable("race", 100_000);
    const reduced = new Reduced([discovered.key]);
    const writer = await pg.connect();
    let load: Promise<void> | undefined;
    let target: number | undefined;
    const session = await runSession({
      config,
      bindings: [bindingOf(discovered)],
      state: {},
      reduced,
      until: (p) => {
        // Start the changes once the slot exists (the first checkpoints), so they race the whole backfill.
        load ??= workload(writer, table, 10_000, 100_000, 17).then(async () => {
          target = await currentLsn();
        });
        return caughtUp(p.state, target);
      },
    });
    await load;
    const states = session.state.bindingStateV1 as Record<string, { backfilled: number; mode: string }>;
    expect(states["test%2Frace"]).toMatchObject({ mode: "Active", backfilled: expect.any(Number) });
    expect(session.committed.filter((d) => d._meta.source.snapshot).length).toBe(states["test%2Frace"]!.backfilled);
    expect(session.committed.some((d) => !d._meta.source.snapshot)).toBe(true);
    const expected = await tableRows(table);
    expect(expected.length).toBeGreaterThan(100_000);
    expect(reduced.rows(0), explainDifference(reduced.rows(0), expected, session.committed)).toEqual(expected);
  }, 180_000);

  it("loses nothing when SIGKILLed at 20 seeded points (mid-backfill, mid-transaction, before an acknowledgement) and resumed", async () => {
    const { table, config: base, discovered } = await setupTable("kills", 10_000);
    const config = { ...base, advanced: { ...base.advanced, backfill_chunk_size: 500 } };
    const reduced = new Reduced([discovered.key]);
    const writer = await pg.connect();
    const random = rng(2024);
    // Changes run throughout, in small transactions, so every session has something to stream.
    let loading = true;
    const load = (async () => {
      for (let batch = 0; loading; batch++) {
        await workload(writer, table, 50, 10_000, 1000 + batch, 10);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    let state: Record<string, unknown> = {};
    const kinds: string[] = [];
    for (let i = 0; i < 20; i++) {
      const kill: KillPoint = random() < 0.5 ? { afterDocuments: 1 + Math.floor(random() * 3000) } : { beforeAckOf: 1 + Math.floor(random() * 12) };
      const session = await runSession({ config, bindings: [bindingOf(discovered)], state, reduced, kill, until: () => false, timeoutMs: 30_000 });
      kinds.push(`${session.killed ? "killed" : "ended"} ${JSON.stringify(kill)} after ${session.checkpoints} checkpoints, in ${(session.state.bindingStateV1 as Record<string, { mode: string }> | undefined)?.["test%2Fkills"]?.mode ?? "start"}`);
      state = session.state;
      await slotReleased("slot_kills");
    }
    loading = false;
    await load;
    const target = await currentLsn();
    const final = await runSession({ config, bindings: [bindingOf(discovered)], state, reduced, until: (p) => caughtUp(p.state, target) });
    expect(kinds.filter((k) => k.startsWith("killed")).length, kinds.join("\n")).toBe(20);
    expect(kinds.some((k) => k.includes("Backfill")), kinds.join("\n")).toBe(true);
    expect(caughtUp(final.state, target)).toBe(true);
    expect(reduced.rows(0)).toEqual(await tableRows(table));
  }, 180_000);

  it("never lets the slot confirm past an unacknowledged checkpoint, and confirms acknowledged ones", async () => {
    const { table, config, discovered } = await setupTable("acks", 10);
    const writer = await pg.connect();
    let acked = 0; // the highest cursor acknowledged so far
    let lastCommitted = 0;
    let violations: string[] = [];
    let holding = false;
    let watching = true;
    const confirmed = async () => {
      const rows = await pg.sql<{ lsn: string | null }>(`SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = 'slot_acks'`);
      return rows[0]?.lsn ? parseLsn(rows[0].lsn) : 0;
    };
    let baseline = 0;
    const watcher = (async () => {
      while (watching) {
        const c = await confirmed();
        if (baseline && c > Math.max(acked, baseline)) violations.push(`confirmed ${c} > acknowledged ${acked}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    let phase = 0;
    let heldSince = 0;
    await runSession({
      config,
      bindings: [bindingOf(discovered)],
      state: {},
      onCommit: async (state) => {
        if (!baseline) baseline = await confirmed();
        const cursor = state.cursor as string | null;
        if (cursor) lastCommitted = parseLsn(cursor);
      },
      holdAcks: async () => {
        // Once caught up, hold acknowledgements for 12 s (past a 10 s status update) while changes flow.
        if (holding) await new Promise((r) => setTimeout(r, Math.max(0, 12_000 - (Date.now() - heldSince))));
        holding = false;
      },
      until: async (p) => {
        acked = Math.max(acked, lastCommitted);
        const mode = (p.state.bindingStateV1 as Record<string, { mode: string }> | undefined)?.["test%2Facks"]?.mode;
        if (phase === 0 && mode === "Active") {
          phase = 1;
          holding = true;
          heldSince = Date.now();
          void (async () => {
            for (let i = 0; i < 20; i++) await writer.query(`UPDATE ${table} SET v = v + 1 WHERE id = ${1 + (i % 10)}`);
          })();
          return false;
        }
        if (phase === 1 && !holding) {
          // Acknowledged again: the slot catches up with the acknowledged position.
          for (let i = 0; i < 300; i++) {
            if ((await confirmed()) >= acked) break;
            await new Promise((r) => setTimeout(r, 100));
          }
          phase = 2;
          return true;
        }
        return false;
      },
    });
    watching = false;
    await watcher;
    expect(violations).toEqual([]);
    expect(acked).toBeGreaterThan(baseline);
    expect(await confirmed()).toBe(acked);
    violations = [];
  }, 120_000);

  it("backfills a table added to the capture, and re-backfills only the table whose backfill counter was bumped", async () => {
    const a = await setupTable("first", 300);
    await pg.sql(`CREATE TABLE test.second (id int PRIMARY KEY, v int NOT NULL, s text)`);
    await pg.sql(`INSERT INTO test.second SELECT g, g, 'second ' || g FROM generate_series(1, 200) g`);
    await pg.sql(`ALTER PUBLICATION pub_first ADD TABLE test.second`);
    const [, second] = (await discover(a.config)).sort((x, y) => (x.recommendedName < y.recommendedName ? -1 : 1));
    expect(second!.recommendedName).toBe("test/second");
    const allActive = (state: Record<string, unknown>, keys: string[]) => keys.every((k) => (state.bindingStateV1 as Record<string, { mode: string }> | undefined)?.[k]?.mode === "Active");

    const one = await runSession({ config: a.config, bindings: [bindingOf(a.discovered)], state: {}, until: (p) => allActive(p.state, ["test%2Ffirst"]) });
    expect(one.committed.filter((d) => d._meta.source.snapshot)).toHaveLength(300);

    // A second binding joins: only it is backfilled; replication carries on from the cursor.
    await pg.sql(`UPDATE test.first SET v = -1 WHERE id = 1`);
    const two = await runSession({ config: a.config, bindings: [bindingOf(a.discovered), bindingOf(second!)], state: one.state, until: (p) => allActive(p.state, ["test%2Ffirst", "test%2Fsecond"]) && p.committed.some((d) => d.id === 1 && d.v === -1) });
    expect(two.committed.filter((d) => d._meta.source.snapshot && d._meta.source.table === "second")).toHaveLength(200);
    expect(two.committed.filter((d) => d._meta.source.snapshot && d._meta.source.table === "first")).toHaveLength(0);
    expect((two.state.cursor as string) >= "").toBe(true);

    // Bumping the first binding's backfill counter re-reads that table alone.
    const three = await runSession({ config: a.config, bindings: [bindingOf(a.discovered, 1), bindingOf(second!)], state: two.state, until: (p) => allActive(p.state, ["test%2Ffirst.v1", "test%2Fsecond"]) });
    expect(three.committed.filter((d) => d._meta.source.snapshot && d._meta.source.table === "first")).toHaveLength(300);
    expect(three.committed.filter((d) => d._meta.source.snapshot && d._meta.source.table === "second")).toHaveLength(0);
    expect((three.state.bindingStateV1 as Record<string, { mode: string }>)["test%2Ffirst"]!.mode).toBe("Ignore");
  }, 120_000);
});
