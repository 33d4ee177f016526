/**
 * How a shim numbers the documents it captures (`_meta.row_id`) and keeps that numbering in each
 * binding's state slot, for every shim alike:
 *
 * ```
 * "<stateKey>": {
 *   "rowId":       <the next row id, for streams whose ids continue across runs>,
 *   "rows":        <snapshot streams: row ids 0..rows-1 may be in the collection>,
 *   "rowsVersion": <snapshot streams: the version the current row ids belong to, when versioned>
 * }
 * ```
 *
 * The record path touches a stream's fields directly (`nextRowId++`, `dirty = true`): a
 * shim's per-stream object extends `StreamRows`, so counting a row costs no call and no
 * allocation. What a stream captured since the last checkpoint is staged only at the
 * checkpoint (`RowBook.checkpoint`), beside the source's own state.
 */
import type { CaptureTask } from "../../runtime/index.js";
import type { KeyStore } from "./keyTracker.js";
import type { StateCheckpoint } from "./slotState.js";

/** How a stream's row ids are kept across checkpoints and runs. */
export interface RowKeeping {
  /** Row ids continue from one run to the next: the next one is kept as `rowId` (incremental streams). */
  continues: boolean;
  /**
   * Each refresh numbers its rows from 0, and `rows` bounds the ids the collection may hold, so
   * a complete refresh can delete those past its own count (see `finishSnapshot`).
   */
  snapshot: boolean;
}

/** What the row book needs of a shim's state keeper (both shims' keepers have it). */
export interface RowStateKeeper extends KeyStore {
  /** A binding's slot, with what is staged. */
  slot(stateKey: string): Readonly<Record<string, unknown>>;
  /** The checkpoint of everything staged since the last one, which becomes committed. */
  commit(): StateCheckpoint;
}

/** What the row book needs of a binding. */
export interface RowBinding {
  /** The binding's index in the capture: the `binding` of its documents. */
  readonly index: number;
  readonly stateKey: string;
  /** The stream's name, for log lines. */
  readonly stream: string;
}

/**
 * One bound stream's row numbering in a capture: a shim's per-stream object extends it with
 * what its protocol needs. Fields, not methods, so the record path pays nothing for them.
 */
export class StreamRows<B extends RowBinding = RowBinding> {
  /** The `_meta.row_id` of the next document. */
  nextRowId: number;
  /** Snapshot streams: row ids 0..rowsBound-1 may be in the collection. */
  rowsBound: number;
  /** Snapshot streams: the version the current row ids belong to (undefined when unversioned). */
  rowsVersion: number | undefined;
  /** Captured since the last checkpoint: its row bookkeeping is staged at the next one. */
  dirty = false;
  /** The source said something of the stream in this run (a record, a status, a schema...). */
  appeared = false;
  readonly continues: boolean;
  readonly snapshot: boolean;

  /** `slot` is the binding's state slot, where an earlier run left its numbering. */
  constructor(
    readonly binding: B,
    slot: Readonly<Record<string, unknown>>,
    keeping: RowKeeping,
  ) {
    this.continues = keeping.continues;
    this.snapshot = keeping.snapshot;
    this.nextRowId = keeping.continues && typeof slot.rowId === "number" ? slot.rowId : 0;
    this.rowsBound = keeping.snapshot && typeof slot.rows === "number" ? slot.rows : 0;
    this.rowsVersion = keeping.snapshot && typeof slot.rowsVersion === "number" ? slot.rowsVersion : undefined;
  }
}

/** The streams of one capture and the checkpoint step they share. */
export class RowBook<S extends StreamRows> {
  constructor(
    private readonly task: CaptureTask,
    private readonly keeper: RowStateKeeper,
    private readonly streams: readonly S[],
  ) {}

  /**
   * The checkpoint step of every shim, once it has staged the source's state: stages the row
   * bookkeeping of the streams that captured since the last checkpoint, commits the staged state
   * (a merge patch of what changed) and checkpoints it, which commits every document captured
   * before it.
   */
  async checkpoint(): Promise<void> {
    this.stage();
    const { updated, mergePatch } = this.keeper.commit();
    await this.task.checkpoint(updated, { mergePatch });
  }

  /** Stages what each stream that captured since the last checkpoint keeps of its numbering. */
  private stage(): void {
    for (const rows of this.streams) {
      if (!rows.dirty) continue;
      rows.dirty = false;
      // A stream that keeps nothing gets no slot of its own.
      if (!rows.continues && !rows.snapshot) continue;
      const fields: Record<string, unknown> = {};
      if (rows.continues) fields.rowId = rows.nextRowId;
      if (rows.snapshot) {
        rows.rowsBound = Math.max(rows.rowsBound, rows.nextRowId);
        fields.rows = rows.rowsBound;
        fields.rowsVersion = rows.rowsVersion;
      }
      this.keeper.stage(rows.binding.stateKey, fields);
    }
  }
}
