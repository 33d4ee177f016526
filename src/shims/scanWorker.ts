/**
 * The second core for the shims' record path: a worker thread that scans batches of a child's
 * stdout lines (each line with its protocol's RECORD scanner, a pure function of the bytes)
 * while the session's thread builds Flow's lines from the batches scanned before. The batches'
 * bytes are transferred to the worker and back, never copied; what the scanner found travels
 * with the batch (`LineBatch.scan`), and the session reads it instead of scanning again.
 *
 * The worker runs the compiled `scanThread.js` beside this module. Where there is none (the
 * TypeScript sources under a test runner, a one-file bundle, a single executable), `create`
 * returns undefined and sessions scan in their own thread, as they do for lines fed one by one.
 */
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { LineBatch } from "../protocol/index.js";
import { FlowcapError } from "../util/errors.js";
import type { ScanItem, ScanKind, ScanMessage } from "./scanLayout.js";

export { SCAN_STRIDE, type ScanKind } from "./scanLayout.js";

interface Pending {
  batch: LineBatch;
  length: number;
  resolve(batch: LineBatch): void;
  reject(error: Error): void;
}

const THREAD = new URL("./scanThread.js", import.meta.url);

/**
 * Batches with the worker at most: past that the session's thread scans the next ones itself, so
 * the two threads share the scanning when the worker falls behind (it never waits on the worker
 * with nothing to do).
 */
const MAX_IN_FLIGHT = 64;

/** A worker thread scanning batches of lines for one read; see the module comment. */
export class BatchScanner {
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private failure: Error | undefined;
  /** Started with the first batch: a read that never gets a line never starts a thread. */
  private worker: Worker | undefined;
  /** Batches waiting to be sent; sent together once the reads of this turn of the event loop are done. */
  private outbox: ScanItem[] = [];
  private transfer: ArrayBuffer[] = [];

  private constructor(private readonly kind: ScanKind) {}

  /** A scanner for `kind`'s RECORD lines, or undefined where no worker can run (the session then scans itself). */
  static create(kind: ScanKind): BatchScanner | undefined {
    // One core: a second thread would only add its messages. FLOWCAP_SCAN_THREAD=off turns it off.
    if (availableParallelism() < 2 || process.env.FLOWCAP_SCAN_THREAD === "off") return undefined;
    try {
      if (!existsSync(fileURLToPath(THREAD))) return undefined;
    } catch {
      return undefined; // not a file: URL (a single executable)
    }
    return new BatchScanner(kind);
  }

  private start(): Worker {
    const worker = new Worker(THREAD, { workerData: { kind: this.kind } });
    worker.on("message", (replies: ScanMessage) => {
      for (const reply of replies) this.onReply(reply);
    });
    worker.on("error", (error) => this.fail(error));
    worker.on("exit", (code) => this.fail(new Error(`the scan worker exited with code ${code}`)));
    return worker;
  }

  /** The worker has as many batches as it should: the next one is better scanned by the session's thread. */
  get busy(): boolean {
    return this.pending.size >= MAX_IN_FLIGHT;
  }

  /**
   * Sends `batch` to be scanned and resolves with it, scanned (a new LineBatch over the same
   * bytes, which are the worker's in between). Batches come back in the order they were sent.
   */
  scan(batch: LineBatch): Promise<LineBatch> {
    if (this.failure) return Promise.reject(this.failure);
    let { buf } = batch;
    // Only a buffer that is the whole of its memory can be transferred: a line completed across
    // reads may share a pool with other buffers, and is copied (that is one line per read).
    if (buf.byteOffset !== 0 || buf.buffer.byteLength !== buf.length || !(buf.buffer instanceof ArrayBuffer)) {
      const own = Buffer.allocUnsafeSlow(buf.length);
      buf.copy(own);
      buf = own;
    }
    const id = this.nextId++;
    const item: ScanItem = { id, buffer: buf.buffer as ArrayBuffer, length: buf.length, start: batch.start, ends: batch.ends };
    return new Promise<LineBatch>((resolve, reject) => {
      this.pending.set(id, { batch, length: buf.length, resolve, reject });
      if (this.outbox.length === 0) setImmediate(this.send);
      this.outbox.push(item);
      this.transfer.push(item.buffer, item.ends.buffer as ArrayBuffer);
    });
  }

  private readonly send = (): void => {
    if (this.failure || this.outbox.length === 0) return;
    const items = this.outbox;
    const transfer = this.transfer;
    this.outbox = [];
    this.transfer = [];
    (this.worker ??= this.start()).postMessage(items, transfer);
  };

  /** Stops the worker. */
  async close(): Promise<void> {
    this.failure ??= new Error("the scan worker was closed");
    await this.worker?.terminate();
  }

  private onReply(reply: ScanItem): void {
    const pending = this.pending.get(reply.id);
    if (!pending) return;
    this.pending.delete(reply.id);
    const scanned = new LineBatch(Buffer.from(reply.buffer, 0, pending.length), pending.batch.start, reply.ends, pending.batch.firstLine);
    scanned.scan = reply.scan!;
    pending.resolve(scanned);
  }

  private fail(cause: Error): void {
    if (this.failure) return;
    this.failure = new FlowcapError("INTERNAL", `the thread scanning the child's output failed: ${cause.message}`, { cause });
    for (const pending of this.pending.values()) pending.reject(this.failure);
    this.pending.clear();
  }
}
