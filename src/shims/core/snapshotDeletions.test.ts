import { describe, expect, it } from "vitest";
import { logSink } from "../../../test/helpers/logs.js";
import { recordingTask } from "../../../test/helpers/recordingTask.js";
import { KeyTracker } from "./keyTracker.js";
import { StreamRows } from "./rowBook.js";
import { SlotState } from "./slotState.js";
import { deleteStaleKeys, finishSnapshot } from "./snapshotDeletions.js";

function setup(slot: Record<string, unknown>) {
  const keeper = new SlotState({ bindingStateV1: { users: slot } }, "bindingStateV1", "global");
  const { log, lines } = logSink();
  const recording = recordingTask(log);
  const rows = new StreamRows({ index: 3, stateKey: "users", stream: "users" }, keeper.slot("users"), { continues: false, snapshot: true });
  return { keeper, lines, recording, rows };
}

describe("finishSnapshot", () => {
  it("deletes the row ids an earlier refresh had past this one's count, and lowers the bound", () => {
    const { lines, recording, rows } = setup({ rows: 5 });
    rows.nextRowId = 2;
    expect(finishSnapshot(recording.task, recording.task.log, rows, 2)).toBe(3);
    expect(recording.docs).toEqual([2, 3, 4].map((id) => ({ binding: 3, doc: { _meta: { op: "d", row_id: id } } })));
    expect(rows.rowsBound).toBe(2);
    expect(rows.dirty).toBe(true);
    expect(lines.json.map((l) => l.message)).toEqual(["stream users: the refresh has 2 row(s), the previous one 5: deleting the rest"]);
  });

  it("deletes nothing when the refresh has as many rows or more, and takes its count as the bound", () => {
    const { lines, recording, rows } = setup({ rows: 2 });
    expect(finishSnapshot(recording.task, recording.task.log, rows, 4)).toBe(0);
    expect(recording.docs).toEqual([]);
    expect(rows.rowsBound).toBe(4);
    expect(lines.json).toEqual([]);
  });

  it("an empty refresh deletes every row the collection may hold", () => {
    const { recording, rows } = setup({ rows: 2 });
    expect(finishSnapshot(recording.task, recording.task.log, rows, 0)).toBe(2);
    expect(recording.docs.map((d) => d.doc)).toEqual([{ _meta: { op: "d", row_id: 0 } }, { _meta: { op: "d", row_id: 1 } }]);
    expect(rows.rowsBound).toBe(0);
  });
});

describe("deleteStaleKeys", () => {
  const record = (json: string) => Buffer.from(json);

  it("deletes the keys only older versions sent, each with the stream's next row id, and keeps the rest", () => {
    const { keeper, lines, recording, rows } = setup({});
    const tracker = new KeyTracker(keeper, "users", [["id"]], 100, false);
    tracker.start();
    for (const [json, version] of [['{"id":1}', 1], ['{"id":2}', 1], ['{"id":3}', 2], ['{"id":1}', 2]] as const) {
      const bytes = record(json);
      tracker.see(bytes, 0, bytes.length, version);
    }
    rows.nextRowId = 10;
    const deleted = deleteStaleKeys(recording.task, recording.task.log, rows, tracker, 2, (n) => `version 2 is active: deleting ${n} row(s)`);
    expect(deleted).toBe(1);
    expect(recording.docs).toEqual([{ binding: 3, doc: { id: 2, _meta: { op: "d", row_id: 10 } } }]);
    expect(rows.nextRowId).toBe(11);
    expect(rows.dirty).toBe(true);
    expect([...keeper.map("users", "keys")]).toEqual([
      ["1", 2],
      ["3", 2],
    ]);
    expect(lines.json.map((l) => l.message)).toEqual(["stream users: version 2 is active: deleting 1 row(s)"]);
  });

  it("deletes nothing and says nothing when no key is stale", () => {
    const { keeper, lines, recording, rows } = setup({});
    const tracker = new KeyTracker(keeper, "users", [["id"]], 100, false);
    tracker.start();
    const bytes = record('{"id":1}');
    tracker.see(bytes, 0, bytes.length, 1);
    expect(deleteStaleKeys(recording.task, recording.task.log, rows, tracker, 1, () => "unused")).toBe(0);
    expect(recording.docs).toEqual([]);
    expect(rows.nextRowId).toBe(0);
    expect(lines.json).toEqual([]);
  });
});
