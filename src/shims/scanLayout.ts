/**
 * What the shims' RECORD scanners and their worker thread share (see scanWorker.ts), without
 * imports: the worker thread loads only this and the scanners.
 */

/** Ints per line in a batch's scan, for both protocols' scanners. */
export const SCAN_STRIDE = 8;

/** Which protocol's RECORD scanner the worker runs. */
export type ScanKind = "airbyte" | "singer";

/** One batch on its way to the worker and back (`scan` is the worker's answer). */
export interface ScanItem {
  id: number;
  buffer: ArrayBuffer;
  length: number;
  start: number;
  ends: Int32Array;
  scan?: Int32Array;
}

/** A message either way: the batches read since the last one, so messages are few. */
export type ScanMessage = ScanItem[];
