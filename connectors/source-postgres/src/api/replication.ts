import type pg from "pg";
import { FlowcapError, type Logger } from "flowcap";
import type { Config } from "../models.js";
import { formatLsn, readLsn, writeLsn, type Lsn } from "../lsn.js";
import { connect, quoteIdentifier } from "./connection.js";

/**
 * The logical replication stream (Estuary's `replication.go`): a `replication=database`
 * connection that runs `START_REPLICATION … LOGICAL` with pgoutput protocol 1 and reads the
 * CopyBoth stream. XLogData payloads are handed out one at a time; keepalives that ask for a
 * reply get one at once, and a standby status update goes out every 10 s regardless. The
 * position confirmed to the server (write = flush = apply) moves only through `acknowledge()`,
 * which the capture calls when Flow has committed a checkpoint: the slot never releases WAL that
 * Flow does not hold.
 */

/** How often a standby status update is sent (Estuary's `standbyStatusInterval`). */
export const STANDBY_STATUS_INTERVAL_MS = 10_000;
/**
 * A stream that has sent nothing, not even a keepalive, for this long is taken for a silently
 * dropped connection (Estuary's `replicationStreamReceiveTimeout`).
 */
export const RECEIVE_TIMEOUT_MS = 15 * 60_000;
/** Bytes of unread messages buffered before the socket is paused (PostgreSQL then waits). */
const HIGH_WATER_BYTES = 16 * 1024 * 1024;
const LOW_WATER_BYTES = 4 * 1024 * 1024;
/** Microseconds from the Unix epoch to PostgreSQL's, 2000-01-01. */
const PG_EPOCH_MS = 946_684_800_000;

/** One XLogData message: its WAL start and the pgoutput payload. */
export interface XLogData {
  walStart: Lsn;
  data: Buffer;
}

const SLOT_ACTIVE = /replication slot ".*" is active for PID/;

interface ConnectionInternals {
  connection: { stream: NodeJS.ReadWriteStream & { pause(): void; resume(): void }; on(event: string, fn: (msg: { chunk: Buffer }) => void): void; sendCopyFromChunk(chunk: Buffer): void };
}

export class ReplicationStream {
  private readonly queue: XLogData[] = [];
  private queueHead = 0;
  private queuedBytes = 0;
  private paused = false;
  private wake: (() => void) | undefined;
  private failure: Error | undefined;
  private ended = false;
  private timer: NodeJS.Timeout | undefined;
  private confirmedSent: Lsn = -1;
  private lastReceivedMs = Date.now();

  private ackLsn: Lsn = 0;

  private constructor(
    private readonly client: pg.Client,
    private readonly config: Config,
    private readonly log: Logger,
  ) {}

  /** Opens the replication connection; start() begins streaming. */
  static async connect(config: Config, log: Logger): Promise<ReplicationStream> {
    const client = await connect(config, { replication: true });
    return new ReplicationStream(client, config, log);
  }

  /**
   * Drops and recreates the slot (a capture starting afresh needs no WAL before now), with the
   * replication commands, which hold no snapshot while waiting for a consistent point. Errors are
   * only logged, as Estuary's: a slot that cannot be made is reported by start().
   */
  async recreateSlot(): Promise<void> {
    const slot = quoteIdentifier(this.config.slotName);
    await this.client.query(`DROP_REPLICATION_SLOT ${slot}`).catch((error: Error) => this.log.debug("error dropping replication slot", { error: error.message }));
    await this.client.query(`CREATE_REPLICATION_SLOT ${slot} LOGICAL pgoutput NOEXPORT_SNAPSHOT`).catch((error: Error) => this.log.debug("error creating replication slot", { error: error.message }));
  }

  /**
   * Starts replication from `startLsn`. Fails with Estuary's message when another capture holds
   * the slot, and with PostgreSQL's when the slot is missing.
   */
  async start(startLsn: Lsn): Promise<void> {
    const { client, config, log } = this;
    this.ackLsn = startLsn;
    const internals = client as unknown as ConnectionInternals;
    internals.connection.on("copyData", (msg) => this.onCopyData(msg.chunk));
    client.on("error", (error: Error) => this.fail(error));
    client.on("end", () => this.fail(new FlowcapError("CAPTURE_FAILED", "the replication connection closed")));
    const started = new Promise<void>((resolve) => (internals.connection as unknown as { once(e: string, fn: () => void): void }).once("replicationStart", resolve));
    const sql = `START_REPLICATION SLOT ${quoteIdentifier(config.slotName)} LOGICAL ${formatLsn(startLsn)} ("proto_version" '1', "publication_names" '${config.publicationName.replace(/'/g, "''")}')`;
    log.info("starting replication", { startLSN: formatLsn(startLsn), publication: config.publicationName, slot: config.slotName });
    void client.query(sql).then(
      () => this.fail(new FlowcapError("CAPTURE_FAILED", "the server ended the replication stream")),
      (error: Error) => this.fail(error),
    );
    await Promise.race([started, new Promise<void>((_, reject) => this.onFailure(reject))]).catch(async (error: Error) => {
      this.ended = true;
      await client.end().catch(() => {});
      const message = (error.cause as Error | undefined)?.message ?? error.message;
      if (SLOT_ACTIVE.test(message)) throw new FlowcapError("CAPTURE_FAILED", `another capture is already running against this database: ${message}`, { cause: error, userFacing: true });
      throw new FlowcapError("CAPTURE_FAILED", `error starting replication: ${message}`, { cause: error, userFacing: /does not exist/.test(message) });
    });
    this.sendStatus(true);
    this.lastReceivedMs = Date.now();
    this.timer = setInterval(() => {
      // While the socket is paused for backpressure, silence is ours, not the server's.
      if (!this.paused && Date.now() - this.lastReceivedMs > RECEIVE_TIMEOUT_MS) {
        this.fail(new FlowcapError("CAPTURE_FAILED", `no replication messages received from server within ${RECEIVE_TIMEOUT_MS / 60_000}m`));
        return;
      }
      this.sendStatus(true);
    }, STANDBY_STATUS_INTERVAL_MS);
  }

  private failureListeners: ((error: Error) => void)[] = [];
  private onFailure(fn: (error: Error) => void): void {
    if (this.failure) fn(this.failure);
    else this.failureListeners.push(fn);
  }

  private fail(error: Error): void {
    if (this.failure || this.ended) return;
    this.failure = error instanceof FlowcapError ? error : new FlowcapError("CAPTURE_FAILED", `replication stream failed: ${error.message}`, { cause: error });
    for (const fn of this.failureListeners.splice(0)) fn(this.failure);
    this.wake?.();
  }

  private onCopyData(chunk: Buffer): void {
    this.lastReceivedMs = Date.now();
    const kind = chunk[0];
    if (kind === 0x77 /* w: XLogData */) {
      // The parser reuses its buffer: copy the payload out before anything else is read.
      const data = Buffer.from(chunk.subarray(25));
      this.queue.push({ walStart: readLsn(chunk, 1), data });
      this.queuedBytes += data.length;
      if (!this.paused && this.queuedBytes > HIGH_WATER_BYTES) {
        this.paused = true;
        (this.client as unknown as ConnectionInternals).connection.stream.pause();
      }
      this.wake?.();
    } else if (kind === 0x6b /* k: primary keepalive */) {
      if (chunk[17] === 1) this.sendStatus(false);
    } else {
      this.fail(new FlowcapError("CAPTURE_FAILED", `unknown CopyData message type ${JSON.stringify(String.fromCharCode(kind ?? 0))} in the replication stream`));
    }
  }

  /**
   * The next XLogData message, or undefined when `signal` aborts first. Rejects when the stream
   * failed. A message is valid until the next call.
   */
  async next(signal: AbortSignal): Promise<XLogData | undefined> {
    for (;;) {
      const item = this.tryNext();
      if (item) return item;
      if (this.failure) throw this.failure;
      if (signal.aborted) return undefined;
      await new Promise<void>((resolve) => {
        const done = () => {
          signal.removeEventListener("abort", done);
          this.wake = undefined;
          resolve();
        };
        this.wake = done;
        signal.addEventListener("abort", done, { once: true });
      });
    }
  }

  /** The next buffered message, without waiting; undefined when none is buffered. */
  tryNext(): XLogData | undefined {
    if (this.queueHead >= this.queue.length) return undefined;
    const item = this.queue[this.queueHead]!;
    this.queue[this.queueHead++] = undefined as unknown as XLogData;
    if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue.splice(0, this.queueHead);
      this.queueHead = 0;
    }
    this.queuedBytes -= item.data.length;
    if (this.paused && this.queuedBytes < LOW_WATER_BYTES) {
      this.paused = false;
      this.lastReceivedMs = Date.now();
      (this.client as unknown as ConnectionInternals).connection.stream.resume();
    }
    return item;
  }

  /**
   * Records that Flow has committed everything up to `lsn` (a transaction end). The server hears
   * of it with the next status update; the position only ever moves forward.
   */
  acknowledge(lsn: Lsn): void {
    if (lsn > this.ackLsn) this.ackLsn = lsn;
  }

  /** The position confirmed (or about to be confirmed) to the server. */
  get acknowledged(): Lsn {
    return this.ackLsn;
  }

  /** Sends a Standby Status Update with write = flush = apply = the acknowledged position. */
  sendStatus(replyRequested: boolean): void {
    if (this.failure || this.ended) return;
    const msg = Buffer.alloc(34);
    msg[0] = 0x72; // r
    writeLsn(msg, this.ackLsn, 1);
    writeLsn(msg, this.ackLsn, 9);
    writeLsn(msg, this.ackLsn, 17);
    const micros = BigInt(Date.now() - PG_EPOCH_MS) * 1000n;
    msg.writeBigInt64BE(micros, 25);
    msg[33] = replyRequested ? 1 : 0;
    if (this.ackLsn !== this.confirmedSent) {
      this.log.debug("advancing confirmed LSN", { ackLSN: formatLsn(this.ackLsn) });
      this.confirmedSent = this.ackLsn;
    }
    try {
      (this.client as unknown as ConnectionInternals).connection.sendCopyFromChunk(msg);
    } catch (error) {
      this.fail(error as Error);
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    if (!this.failure) this.sendStatus(false); // the final acknowledged position
    this.ended = true;
    await this.client.end().catch(() => {});
  }
}
