// The example tap over a real SQLite shop, run by the shim the way Flow runs it (flowcap's host
// harness: validate, apply, sessions with the state carried over, every document checked against
// its collection). The shop changes between syncs, and the collections must follow it.
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { loadCatalog, runPreview, selectCapture } from "flowcap/host";

const here = path.dirname(fileURLToPath(import.meta.url));
const connector = path.resolve(here, "..");
const main = path.resolve(connector, "../../dist/connectors/source-singer-example/main.js");

/** Runs SQL on the shop with Python's sqlite3 (the tap's own standard library). */
function sql(db: string, statements: string): void {
  const run = spawnSync("python3", ["-c", "import sqlite3, sys\ndb = sqlite3.connect(sys.argv[1])\ndb.executescript(sys.argv[2])\ndb.commit()", db, statements], { encoding: "utf8" });
  if (run.status !== 0) throw new Error(run.stderr);
}

/** A Flow catalog capturing the shop at `db` with the example connector. */
function shopCatalog(dir: string, db: string, streams: string[], pageSize: number): string {
  cpSync(path.join(connector, "acmeCo"), path.join(dir, "acmeCo"), { recursive: true });
  const resources: Record<string, object> = { orders: { stream: "orders", replication_method: "INCREMENTAL", replication_key: "updated_at" }, products: { stream: "products", replication_method: "FULL_TABLE" } };
  const file = path.join(dir, `flow-${streams.join("-")}.yaml`);
  writeFileSync(
    file,
    JSON.stringify({
      import: ["acmeCo/flow.yaml"],
      captures: {
        "acmeCo/source-singer-example": {
          endpoint: { local: { command: [process.execPath, main], config: { database: db, page_size: pageSize } } },
          bindings: streams.map((s) => ({ resource: resources[s], target: `acmeCo/${s}` })),
        },
      },
    }),
  );
  return file;
}

/** Runs sessions and returns the documents per collection and the final state. */
async function preview(file: string, sessions: number[], initialState?: Record<string, unknown>) {
  const catalog = await loadCatalog(file);
  const docs: Record<string, Record<string, unknown>[]> = { "acmeCo/orders": [], "acmeCo/products": [] };
  const result = await runPreview(catalog, selectCapture(catalog), { sessions, initialState, reporter: { document: (collection, doc) => void docs[collection]!.push(doc) } });
  return { docs, state: result.state, stats: result.stats };
}

const op = (doc: Record<string, unknown>) => (doc._meta as { op: string }).op;

describe("source-singer-example over a SQLite shop", () => {
  let dir: string;
  let db: string;

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), "singer-example-"));
    db = path.join(dir, "shop.db");
    const orders = Array.from({ length: 120 }, (_, i) => `(${i + 1}, 'c${i % 7}', ${(i + 1) * 2.5}, 'paid', '2026-02-01T00:${String(Math.floor(i / 2)).padStart(2, "0")}:00Z')`).join(",");
    sql(
      db,
      `CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT, total REAL NOT NULL, status TEXT NOT NULL, updated_at TEXT NOT NULL);
       CREATE TABLE products (sku TEXT PRIMARY KEY, name TEXT NOT NULL, price REAL NOT NULL, stock INTEGER);
       INSERT INTO orders VALUES ${orders};
       INSERT INTO products VALUES ('A', 'Apple', 1.0, 10), ('B', 'Bread', 2.0, NULL), ('C', 'Cheese', 3.0, 3), ('D', 'Dates', 4.0, 4), ('E', 'Eggs', 5.0, 12);`,
    );
  });

  it("replicates orders incrementally and products in full, deleting the products the shop no longer has", async () => {
    const file = shopCatalog(dir, db, ["orders", "products"], 25);
    const first = await preview(file, [-1]);
    // Rows sharing a timestamp (two per minute) straddle pages: none is skipped.
    expect(first.docs["acmeCo/orders"]!.map((d) => d.id)).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
    expect(first.docs["acmeCo/products"]!.map((d) => [d.sku, op(d)])).toEqual(["A", "B", "C", "D", "E"].map((s) => [s, "u"]));
    // What the live status line shows: counts per binding, named by resource path.
    expect([...first.stats.bindings.values()].map((b) => [b.label, b.collection, b.documents])).toEqual([
      ["orders", "acmeCo/orders", 120],
      ["products", "acmeCo/products", 5],
    ]);

    sql(
      db,
      `UPDATE orders SET status = 'refunded', updated_at = '2026-03-01T00:00:00Z' WHERE id = 7;
       INSERT INTO orders VALUES (121, 'c1', 99.5, 'placed', '2026-03-01T00:00:00Z');
       DELETE FROM products WHERE sku = 'C';
       UPDATE products SET price = 1.25 WHERE sku = 'A';
       INSERT INTO products VALUES ('F', 'Figs', 6.0, 6);`,
    );
    const second = await preview(file, [-1], first.state);
    expect(second.docs["acmeCo/orders"]!.map((d) => [d.id, d.status])).toEqual([
      [7, "refunded"],
      [121, "placed"],
    ]);
    // The new version re-sends A, B, D, E and F, then its activation deletes C.
    expect(second.docs["acmeCo/products"]!.map((d) => [d.sku, op(d)])).toEqual([
      ["A", "u"],
      ["B", "u"],
      ["D", "u"],
      ["E", "u"],
      ["F", "u"],
      ["C", "d"],
    ]);
    expect(second.docs["acmeCo/products"]![0]!.price).toBe(1.25);

    // Nothing changed: nothing but the products' next version, and no deletion.
    const third = await preview(file, [-1], second.state);
    expect(third.docs["acmeCo/orders"]).toEqual([]);
    expect(third.docs["acmeCo/products"]!.map((d) => [d.sku, op(d)])).toEqual(["A", "B", "D", "E", "F"].map((s) => [s, "u"]));
  }, 120_000);

  it("resumes a products sync cut short within its version, deleting nothing it already sent", async () => {
    const file = shopCatalog(dir, db, ["products"], 2);
    const cut = await preview(file, [1]); // stopped after its first page's checkpoint
    expect(cut.docs["acmeCo/products"]!.map((d) => d.sku)).toEqual(["A", "B"]);
    const rest = await preview(file, [-1], cut.state);
    expect(rest.docs["acmeCo/products"]!.map((d) => [d.sku, op(d)])).toEqual(["D", "E", "F"].map((s) => [s, "u"]));
  }, 120_000);
});
