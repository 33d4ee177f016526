/**
 * The shim core: what every shim's session does the same way, whatever its protocol. A shim
 * maps its protocol's messages (an Airbyte STATE, a Singer ACTIVATE_VERSION) onto these:
 *
 * - `slotState.ts`: the connector state as one slot per binding plus a global one, checkpointed
 *   as merge patches of what changed;
 * - `rowBook.ts`: each stream's `_meta.row_id` numbering, kept in its slot, and the checkpoint
 *   step (the source's state, then the rows, committed together);
 * - `snapshotDeletions.ts`: the rows a complete refresh deletes, by row id or by key;
 * - `keyTracker.ts`: a keyed stream's keys, each with the refresh or version that last sent it;
 * - `skippedStreams.ts`: records of streams no binding captures, counted and reported.
 */
export { DEFAULT_MAX_TRACKED_KEYS, KeyTracker, PENDING_VERSION } from "./keyTracker.js";
export { RowBook, StreamRows } from "./rowBook.js";
export { deleteStaleKeys, finishSnapshot } from "./snapshotDeletions.js";
export { SkippedStreams } from "./skippedStreams.js";
export { SlotState, type MapValue, type StateCheckpoint, type TrackedMap } from "./slotState.js";
