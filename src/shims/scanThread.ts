/**
 * The scan worker's thread (see scanWorker.ts): receives batches of a child's stdout lines, scans
 * each line with its protocol's RECORD scanner, and sends the batches back with what it found.
 * The bytes come and go by transfer, never copied.
 */
import { parentPort, workerData } from "node:worker_threads";
import { scanBatch } from "./airbyte/recordScanner.js";
import { scanSingerBatch } from "./singer/recordScanner.js";
import { SCAN_STRIDE, type ScanKind, type ScanMessage } from "./scanLayout.js";

const scan = (workerData as { kind: ScanKind }).kind === "singer" ? scanSingerBatch : scanBatch;

parentPort!.on("message", (message: ScanMessage) => {
  const transfer: ArrayBuffer[] = [];
  for (const item of message) {
    const result = new Int32Array(item.ends.length * SCAN_STRIDE);
    scan(Buffer.from(item.buffer, 0, item.length), item.start, item.ends, result);
    item.scan = result;
    transfer.push(item.buffer, item.ends.buffer as ArrayBuffer, result.buffer as ArrayBuffer);
  }
  parentPort!.postMessage(message, transfer);
});
