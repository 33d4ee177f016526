/**
 * The deletions a complete refresh makes, for every shim: a refresh re-sends a stream whole, so
 * whatever the collection holds that the refresh did not send was deleted at the source.
 *
 * - A stream without a key of its own is captured by row id (`/_meta/row_id`): a refresh numbers
 *   its rows from 0, so the ids past its count are the rows it no longer has (`finishSnapshot`).
 * - A keyed stream has its keys tracked with the refresh or version that last sent each
 *   (`./keyTracker.ts`): the keys only older ones sent are the rows it no longer has
 *   (`deleteStaleKeys`).
 *
 * Deletions are `_meta.op: "d"` documents, captured like records and committed with the next
 * checkpoint, so a refresh that fails before it deletes nothing.
 */
import type { CaptureTask, Logger } from "../../runtime/index.js";
import type { KeyTracker } from "./keyTracker.js";
import type { StreamRows } from "./rowBook.js";

/**
 * A snapshot stream's refresh is complete with `count` rows (ids 0..count-1): the ids the
 * collection may hold past them (up to `rows.rowsBound`) are deleted, and `count` becomes the
 * bound, staged at the next checkpoint. Returns how many rows were deleted.
 */
export function finishSnapshot(task: CaptureTask, log: Logger, rows: StreamRows, count: number): number {
  const b = rows.binding;
  const deleted = Math.max(0, rows.rowsBound - count);
  if (deleted > 0) {
    log.info(`stream ${b.stream}: the refresh has ${count} row(s), the previous one ${rows.rowsBound}: deleting the rest`);
    for (let id = count; id < rows.rowsBound; id++) task.capturedJson(b.index, `{"_meta":{"op":"d","row_id":${id}}}`);
  }
  rows.rowsBound = count;
  rows.dirty = true;
  return deleted;
}

/**
 * `version` (a refresh, or a version the source activated) is complete: the keys only older
 * versions sent are deleted, each document taking the stream's next row id. `describe` words
 * the log line for the count deleted. Returns how many rows were deleted.
 */
export function deleteStaleKeys(task: CaptureTask, log: Logger, rows: StreamRows, tracker: KeyTracker, version: number, describe: (count: number) => string): number {
  const stale = tracker.settle(version);
  if (stale.length) log.info(`stream ${rows.binding.stream}: ${describe(stale.length)}`);
  for (const key of stale) task.capturedJson(rows.binding.index, tracker.deletionDocument(key, `{"op":"d","row_id":${rows.nextRowId++}}`));
  rows.dirty = true;
  return stale.length;
}
