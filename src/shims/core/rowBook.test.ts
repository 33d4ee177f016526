import { describe, expect, it } from "vitest";
import { logSink } from "../../../test/helpers/logs.js";
import { recordingTask } from "../../../test/helpers/recordingTask.js";
import { RowBook, StreamRows, type RowKeeping } from "./rowBook.js";
import { SlotState } from "./slotState.js";

const CONTINUES: RowKeeping = { continues: true, snapshot: false };
const SNAPSHOT: RowKeeping = { continues: false, snapshot: true };
const VERSIONED_SNAPSHOT: RowKeeping = { continues: true, snapshot: true };
const NOTHING: RowKeeping = { continues: false, snapshot: false };

function setup(flowState: unknown, streams: [string, RowKeeping][]) {
  const keeper = new SlotState(flowState, "bindingStateV1", "global");
  const recording = recordingTask(logSink().log);
  const rows = streams.map(([stateKey, keeping], index) => new StreamRows({ index, stateKey, stream: stateKey }, keeper.slot(stateKey), keeping));
  return { keeper, recording, rows, book: new RowBook(recording.task, keeper, rows) };
}

describe("StreamRows", () => {
  it("continues the row ids an earlier run kept, and a snapshot's bound and version", () => {
    const slots = { inc: { rowId: 7, rows: 3 }, snap: { rowId: 9, rows: 4, rowsVersion: 1700 }, both: { rowId: 5, rows: 6, rowsVersion: 1700 } };
    const { rows } = setup({ bindingStateV1: slots }, [["inc", CONTINUES], ["snap", SNAPSHOT], ["both", VERSIONED_SNAPSHOT]]);
    const [inc, snap, both] = rows;
    expect([inc!.nextRowId, inc!.rowsBound, inc!.rowsVersion]).toEqual([7, 0, undefined]);
    // A snapshot that does not continue starts each run at 0, bounded by what it kept.
    expect([snap!.nextRowId, snap!.rowsBound, snap!.rowsVersion]).toEqual([0, 4, 1700]);
    expect([both!.nextRowId, both!.rowsBound, both!.rowsVersion]).toEqual([5, 6, 1700]);
  });

  it("starts a stream without a slot at row 0", () => {
    const { rows } = setup({}, [["a", VERSIONED_SNAPSHOT]]);
    expect([rows[0]!.nextRowId, rows[0]!.rowsBound, rows[0]!.rowsVersion, rows[0]!.dirty, rows[0]!.appeared]).toEqual([0, 0, undefined, false, false]);
  });
});

describe("RowBook.checkpoint", () => {
  it("commits the source's staged state with the numbering of the streams that captured, as one merge patch", async () => {
    const { keeper, recording, rows, book } = setup({ bindingStateV1: { inc: { rowId: 2, cursor: "a" } } }, [["inc", CONTINUES], ["idle", CONTINUES]]);
    const [inc] = rows;
    inc!.nextRowId += 3;
    inc!.dirty = true;
    keeper.stage("inc", { cursor: "b" });
    await book.checkpoint();
    expect(recording.checkpoints).toEqual([{ updated: { bindingStateV1: { inc: { rowId: 5, cursor: "b" } } }, mergePatch: true }]);
    expect(inc!.dirty).toBe(false);
    // Nothing captured since: the numbering is not staged again.
    await book.checkpoint();
    expect(recording.checkpoints[1]).toEqual({ updated: {}, mergePatch: true });
  });

  it("keeps a snapshot's bound at the most rows any refresh numbered, with its version", async () => {
    const { recording, rows, book } = setup({ bindingStateV1: { snap: { rows: 4 } } }, [["snap", VERSIONED_SNAPSHOT]]);
    const snap = rows[0]!;
    snap.nextRowId = 2;
    snap.rowsVersion = 1800;
    snap.dirty = true;
    await book.checkpoint();
    // Fewer rows than the bound so far: ids 2 and 3 may still be in the collection.
    expect(recording.checkpoints[0]!.updated).toEqual({ bindingStateV1: { snap: { rowId: 2, rowsVersion: 1800 } } });
    expect(snap.rowsBound).toBe(4);
    snap.nextRowId = 6;
    snap.dirty = true;
    await book.checkpoint();
    expect(recording.checkpoints[1]!.updated).toEqual({ bindingStateV1: { snap: { rowId: 6, rows: 6 } } });
    expect(snap.rowsBound).toBe(6);
  });

  it("drops a snapshot's version once its rows are unversioned", async () => {
    const { recording, rows, book } = setup({ bindingStateV1: { snap: { rows: 2, rowsVersion: 1700 } } }, [["snap", SNAPSHOT]]);
    const snap = rows[0]!;
    snap.rowsVersion = undefined;
    snap.nextRowId = 1;
    snap.dirty = true;
    await book.checkpoint();
    expect(recording.checkpoints[0]!.updated).toEqual({ bindingStateV1: { snap: { rowsVersion: null } } });
  });

  it("gives a stream that keeps nothing no slot, however much it captured", async () => {
    const { keeper, recording, rows, book } = setup({}, [["plain", NOTHING]]);
    rows[0]!.nextRowId = 10;
    rows[0]!.dirty = true;
    await book.checkpoint();
    expect(recording.checkpoints[0]).toEqual({ updated: {}, mergePatch: true });
    expect(keeper.whole()).toEqual({ bindingStateV1: {} });
    expect(rows[0]!.dirty).toBe(false);
  });
});
