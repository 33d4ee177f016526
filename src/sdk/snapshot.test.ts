import { describe, expect, it } from "vitest";
import { createConnectorHarness } from "../testing/index.js";
import { defineConnector } from "./connector.js";
import { defineSnapshotResource } from "./snapshot.js";

const teamSchema = {
  type: "object",
  properties: { id: { type: "integer" }, name: { type: "string" } },
  required: ["id", "name"],
  additionalProperties: false,
} as const;

/** A source of rows the test edits between sessions; each snapshot reads all of them. */
function teamsConnector(rows: Map<number, string>, options: { key?: string[]; maxKeys?: number } = {}) {
  let snapshots = 0;
  const connector = defineConnector({
    documentationUrl: "https://example.com",
    config: { type: "object" },
    resources: [
      defineSnapshotResource({
        name: "teams",
        key: options.key ?? ["/id"],
        schema: teamSchema,
        interval: "PT0.05S",
        maxKeys: options.maxKeys,
        async *fetchSnapshot() {
          snapshots++;
          for (const [id, name] of rows) yield { id, name };
        },
      }),
    ],
  });
  return { connector, snapshots: () => snapshots };
}

const docs = (result: { documents: readonly [string, Record<string, unknown>][] }) => result.documents.map(([, d]) => d);

describe("snapshot resources", () => {
  it("emits every row of the first snapshot, then only what changed: a lost row is deleted, an unchanged snapshot emits nothing", async () => {
    const rows = new Map([
      [1, "red"],
      [2, "green"],
      [3, "blue"],
    ]);
    const { connector, snapshots } = teamsConnector(rows);
    const harness = createConnectorHarness(connector);
    const first = await harness.capture({ transactions: 1 });
    expect(docs(first)).toEqual([
      { id: 1, name: "red", _meta: { op: "c", uuid: expect.any(String) } },
      { id: 2, name: "green", _meta: { op: "c", uuid: expect.any(String) } },
      { id: 3, name: "blue", _meta: { op: "c", uuid: expect.any(String) } },
    ]);

    // Unchanged: three more snapshots, three checkpoints, no document.
    const taken = snapshots();
    const unchanged = await harness.capture({ state: first.state, until: () => snapshots() >= taken + 3 });
    expect(docs(unchanged)).toEqual([]);
    expect(unchanged.transactions).toBeGreaterThan(0);

    // Row 2 is gone, row 3 renamed, row 4 new: exactly those.
    rows.delete(2);
    rows.set(3, "navy");
    rows.set(4, "gold");
    const changed = await harness.capture({ state: unchanged.state, transactions: 1 });
    // Committed as flowctl prints a transaction: combined, in key order.
    expect(docs(changed)).toEqual([
      { id: 2, _meta: { op: "d", uuid: expect.any(String) } },
      { id: 3, name: "navy", _meta: { op: "u", uuid: expect.any(String) } },
      { id: 4, name: "gold", _meta: { op: "c", uuid: expect.any(String) } },
    ]);
    // The state keeps one digest per key, patched: the deleted key is removed.
    const keys = (changed.state as { bindingStateV1: { teams: { snapshot: { keys: object } } } }).bindingStateV1.teams.snapshot.keys;
    expect(Object.keys(keys).sort()).toEqual(["[1]", "[3]", "[4]"]);
    expect(changed.states[0]!.updated).toEqual({
      bindingStateV1: { teams: { snapshot: { takenAt: expect.any(String), keys: { "[2]": null, "[3]": expect.any(String), "[4]": expect.any(String) } } } },
    });
  });

  it("discovers a schema under which a deletion, carrying only its key, is a valid document", async () => {
    const { connector } = teamsConnector(new Map());
    const [binding] = await createConnectorHarness(connector).discover();
    expect(binding!.documentSchema).toMatchObject({
      required: ["id"],
      properties: { _meta: { properties: { op: { enum: ["c", "u", "d"] } } } },
      if: { properties: { _meta: { properties: { op: { const: "d" } } } } },
      then: { reduce: { strategy: "merge", delete: true } },
      else: { required: ["name"] },
    });
  });

  it("numbers rows keyed on /_meta/row_id by position, and deletes the rows past a shorter snapshot's end", async () => {
    const rows = new Map([
      [1, "a"],
      [2, "b"],
      [3, "c"],
    ]);
    const { connector } = teamsConnector(rows, { key: ["/_meta/row_id"] });
    const harness = createConnectorHarness(connector);
    const first = await harness.capture({ transactions: 1 });
    expect(docs(first).map((d) => (d._meta as { row_id: number }).row_id)).toEqual([0, 1, 2]);
    rows.delete(3);
    const second = await harness.capture({ state: first.state, transactions: 1 });
    expect(docs(second)).toEqual([{ _meta: { op: "d", row_id: 2, uuid: expect.any(String) } }]);
  });

  it("fails with a clear error rather than tracking more keys than it may", async () => {
    const { connector } = teamsConnector(
      new Map([
        [1, "a"],
        [2, "b"],
        [3, "c"],
      ]),
      { maxKeys: 2 },
    );
    await expect(createConnectorHarness(connector).capture({ transactions: 1, timeoutMs: 20_000 })).rejects.toThrow(/more than 2 documents.*Raise maxKeys/);
  });
});
