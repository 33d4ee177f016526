import { EventEmitter } from "node:events";
import type pg from "pg";

/**
 * A tap between a pg connection's socket and pg's protocol parser that hands the rows of a
 * `COPY … TO STDOUT` (CopyData messages) straight to a sink, as views of the bytes the socket
 * read, and passes every other message on to pg unchanged and in order.
 *
 * Why: pg's parser makes a message object and a Buffer view for every CopyData message, copies
 * the socket's reads into a buffer of its own when a message spans two, and dispatches each
 * message through two event emitters to the active query. For a backfill, which reads hundreds
 * of thousands of rows a second, that was a fifth of the connector's time and most of its
 * garbage (BENCHMARKS.md, "Backfill with COPY"). The tap only walks message headers.
 *
 * pg never sees a tapped CopyData message, which is a COPY that returned its rows to someone
 * else: pg's own state (CopyOutResponse, CopyDone, CommandComplete, ReadyForQuery, errors) is
 * untouched. Messages other than CopyData, and CopyData while no sink is set, reach pg as the
 * same bytes in the same order, split across reads as they were read or coalesced.
 */
export class CopyDataTap {
  /**
   * While set, CopyData payloads go here instead of to pg, in order, a batch per read: the rows
   * `buf[starts[i], ends[i])` for i < count (the arrays are reused). Must not throw.
   */
  sink: RowSink | undefined;
  /** What pg's parser listens to in place of the socket. */
  readonly parserSide = new EventEmitter();
  /** Bytes still to come of a message being passed on to pg. */
  private passing = 0;
  /** A message header split across reads: its first bytes. */
  private readonly head = Buffer.alloc(HEADER_BYTES);
  private headUsed = 0;
  /** A CopyData message for the sink split across reads, gathered whole (type and length too); empty when none. */
  private split: Buffer = EMPTY;
  private splitUsed = 0;
  // The batch being gathered, of rows of one buffer.
  private readonly starts = new Int32Array(BATCH_ROWS);
  private readonly ends = new Int32Array(BATCH_ROWS);
  private count = 0;

  /** Takes one read from the socket. */
  push(chunk: Buffer): void {
    const n = chunk.length;
    let pos = 0;
    // The start of a run of bytes to pass on (-1: none yet), passed on in one piece.
    let run = -1;
    while (pos < n) {
      if (this.passing > 0) {
        if (run < 0) run = pos;
        const take = Math.min(this.passing, n - pos);
        this.passing -= take;
        pos += take;
        continue;
      }
      if (this.split.length > 0) {
        pos = this.gatherSplit(chunk, pos);
        continue;
      }
      if (this.headUsed > 0 || n - pos < HEADER_BYTES) {
        if (run >= 0) this.pass(chunk, run, pos);
        run = -1;
        pos = this.gatherHead(chunk, pos);
        continue;
      }
      const total = 1 + ((chunk[pos + 1]! << 24) >>> 0) + (chunk[pos + 2]! << 16) + (chunk[pos + 3]! << 8) + chunk[pos + 4]!;
      if (chunk[pos] !== COPY_DATA || this.sink === undefined) {
        if (run < 0) run = pos;
        this.passing = total;
        continue;
      }
      if (run >= 0) {
        this.pass(chunk, run, pos);
        run = -1;
        // pg may have ended the COPY's query meanwhile (an error): then it is pg's again.
        if (this.sink === undefined) continue;
      }
      if (pos + total > n) {
        this.flush(chunk);
        this.split = Buffer.allocUnsafe(total);
        this.splitUsed = n - pos;
        chunk.copy(this.split, 0, pos, n);
        pos = n;
        continue;
      }
      if (this.count === BATCH_ROWS) this.flush(chunk);
      this.starts[this.count] = pos + HEADER_BYTES;
      this.ends[this.count] = pos + total;
      this.count++;
      pos += total;
    }
    if (run >= 0) this.pass(chunk, run, pos);
    this.flush(chunk);
  }

  /** Hands the batch gathered from `buf` to the sink. */
  private flush(buf: Buffer): void {
    if (this.count === 0) return;
    const count = this.count;
    this.count = 0;
    this.sink!.rows(buf, this.starts, this.ends, count);
  }

  /** Passes `chunk[from, to)` on to pg, after the rows before it. */
  private pass(chunk: Buffer, from: number, to: number): void {
    this.flush(chunk);
    if (to > from) this.parserSide.emit("data", from === 0 && to === chunk.length ? chunk : chunk.subarray(from, to));
  }

  /** Goes on with a message split across reads; returns where the read goes on. */
  private gatherSplit(chunk: Buffer, pos: number): number {
    const take = Math.min(this.split.length - this.splitUsed, chunk.length - pos);
    chunk.copy(this.split, this.splitUsed, pos, pos + take);
    this.splitUsed += take;
    if (this.splitUsed === this.split.length) {
      const whole = this.split;
      this.split = EMPTY;
      if (this.sink === undefined) {
        this.parserSide.emit("data", whole);
      } else {
        this.starts[0] = HEADER_BYTES;
        this.ends[0] = whole.length;
        this.count = 1;
        this.flush(whole);
      }
    }
    return pos + take;
  }

  /** Goes on with a header split across reads, then with its message; returns where the read goes on. */
  private gatherHead(chunk: Buffer, pos: number): number {
    const take = Math.min(HEADER_BYTES - this.headUsed, chunk.length - pos);
    chunk.copy(this.head, this.headUsed, pos, pos + take);
    this.headUsed += take;
    if (this.headUsed < HEADER_BYTES) return pos + take;
    this.headUsed = 0;
    const total = 1 + this.head.readUInt32BE(1);
    if (this.head[0] === COPY_DATA && this.sink !== undefined) {
      this.split = Buffer.allocUnsafe(total);
      this.head.copy(this.split, 0);
      this.splitUsed = HEADER_BYTES;
    } else {
      this.parserSide.emit("data", Buffer.from(this.head));
      this.passing = total - HEADER_BYTES;
    }
    return pos + take;
  }
}

/**
 * Receives COPY rows. An object with a method rather than a callback: a new closure per query
 * at this call site would make V8 drop the optimized row path at each query and compile it again.
 */
export interface RowSink {
  /** A batch of rows: `buf[starts[i], ends[i])` for i < count (the arrays are reused). */
  rows(buf: Buffer, starts: Int32Array, ends: Int32Array, count: number): void;
}

const EMPTY = Buffer.alloc(0);
/** Rows handed over at most in one batch (a read of 64 KiB holds up to ~13,000 empty rows). */
const BATCH_ROWS = 4096;
const COPY_DATA = 0x64; // 'd'
/** A message's type byte and its 4-byte length (which counts itself, not the type). */
const HEADER_BYTES = 5;

const taps = new WeakMap<pg.Client, CopyDataTap>();

/** pg's connection, as far as the tap needs it (pg ≥ 8.0 reads its socket in attachListeners). */
interface TappableConnection {
  attachListeners?: (stream: EventEmitter) => void;
}

/**
 * Puts a tap between `client`'s socket (the TLS one, when the session upgrades) and pg's
 * parser; call before connecting. Does nothing for a pg whose connection has no
 * `attachListeners`, and copyTapOf() then answers undefined: COPY rows take pg's own path.
 */
export function tapCopyData(client: pg.Client): void {
  const connection = (client as unknown as { connection?: TappableConnection }).connection;
  const attach = connection?.attachListeners;
  if (connection === undefined || typeof attach !== "function") return;
  const tap = new CopyDataTap();
  connection.attachListeners = function (this: TappableConnection, stream: EventEmitter) {
    attach.call(this, tap.parserSide);
    stream.on("data", (chunk: Buffer) => tap.push(chunk));
    stream.on("end", () => tap.parserSide.emit("end"));
  };
  taps.set(client, tap);
}

/** The client's tap, when tapCopyData() installed one. */
export function copyTapOf(client: pg.Client): CopyDataTap | undefined {
  return taps.get(client);
}
