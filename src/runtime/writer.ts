import { Socket } from "node:net";
import type { Writable } from "node:stream";
import { aborted } from "../util/abort.js";
import { FlowcapError, StoppedError } from "../util/errors.js";

/**
 * Within a section, writes are corked (gathered, then written with one `writev`) up to this many
 * bytes before the stream's own high-water mark applies: a checkpoint sequence of many of the
 * spool's blocks is one system call, not one per block.
 */
const CORKED_BYTES = 256 * 1024;

/**
 * Writes data to the stream, waiting for 'drain' when its buffer is full: returns a promise
 * then, and undefined when the caller need not wait (a write per block should not cost a
 * promise and a microtask). `onWritten` is called once the stream is done with `data` (written
 * out, or failed): until then its bytes must stay as they are.
 */
export interface WriteFn {
  (data: string | Buffer, onWritten?: () => void): Promise<void> | undefined;
  /** Hands what the writer gathered to the stream now (before waiting for an `onWritten`). */
  flush?(): void;
  /**
   * From now until the section ends, writes hand their data to the stream without waiting for
   * it to drain, and writes waiting for 'drain' go on at once: for the end of a sequence whose
   * bytes are already held in memory (counted against a budget until `onWritten`), so that the
   * section ends without waiting for the reader; the next section's writes wait instead.
   */
  handOverRest?(): void;
}

/**
 * The single writer of a connector's stdout. Everything that reaches stdout goes through here,
 * one critical section at a time, so a checkpoint sequence is never interleaved with another.
 * Writes honour backpressure: when the reader stalls, `write()` waits for 'drain', and so do
 * the tasks waiting to commit, so memory stays bounded.
 *
 * It writes with the stream's own `write`, taken when it is created: `serve()` then guards the
 * stream's `write` against everyone else (see routeConsoleToLog).
 *
 * Closing it is bounded by a deadline (the end of a stop's grace period): what Flow does not
 * read by then is given up with an error, rather than waited for for ever.
 */
export class ResponseWriter {
  private tail: Promise<void> = Promise.resolve();
  private failure: Error | undefined;
  private closed = false;
  /** A section is running (its data is being handed to the stream). */
  private active = false;
  /** close() gave up on the stream: nothing more is waited for. */
  private abandoned = false;
  /**
   * A section ended inside a checkpoint sequence it had begun to write (abandonSequence): what
   * every later section, and close(), fail with.
   */
  private broken: Error | undefined;
  /** What the running section is, for close()'s message when it does not end in time. */
  private activeLabel: string | undefined;
  private waiters = new Set<() => void>();
  /** The stream is corked by this writer (within a section, until the corked bytes pass CORKED_BYTES). */
  private corked = false;
  /** The running section hands the rest of its data over without waiting (WriteFn.handOverRest). */
  private handingOver = false;
  /** The stream's own write, kept before anyone replaces it. */
  private readonly streamWrite: Writable["write"];
  /**
   * The stream copies what it writes out of the buffers it is given (a socket, a pipe or a TTY
   * through libuv, a file through fs.writeSync), so a buffer may be filled again once written.
   * Any other stream (a PassThrough) may hand the buffer itself on to its reader, who could
   * still hold it: such a stream is given a copy of a buffer its owner wants back.
   */
  private readonly copiesOut: boolean;

  constructor(private readonly stream: Writable) {
    this.streamWrite = stream.write.bind(stream) as Writable["write"];
    this.copiesOut = stream instanceof Socket || typeof (stream as { fd?: unknown }).fd === "number";
    stream.on("error", (error: Error) => this.fail(error));
    stream.on("close", () => this.fail(new Error("stream closed")));
  }

  /**
   * Runs `section` with exclusive use of the stream, after every section queued before it.
   * Resolves when its data has been handed to the stream within its high-water mark. `label`
   * says what the section writes, for the error when a stop's grace period ends before it does.
   */
  exclusive<T>(section: (write: WriteFn) => Promise<T>, label?: string): Promise<T> {
    const run = this.tail.then(async () => {
      if (this.failure) throw this.outputClosed();
      if (this.broken) throw this.broken;
      if (this.closed) throw new StoppedError("the session has ended: nothing more is written");
      this.active = true;
      this.activeLabel = label;
      try {
        return await section(this.writeFn);
      } finally {
        this.active = false;
        this.activeLabel = undefined;
        this.handingOver = false;
        this.uncork();
      }
    });
    this.tail = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /**
   * Called by a section that wrote part of a checkpoint sequence and cannot finish it (its task
   * failed or stopped before the checkpoint): nothing more is written, since any later
   * checkpoint would commit that part with another task's state. Every later section is refused
   * with `error`, and close() ends with it; Flow discards what followed the last checkpoint.
   */
  abandonSequence(error: Error): void {
    this.broken ??= error;
  }

  /** Writes one complete message. */
  write(data: string): Promise<void> {
    return this.exclusive(async (write) => write(data));
  }

  /**
   * Ends the writing: sections that have not started are refused (StoppedError); resolves once
   * the section being written has finished and the stream's buffer has emptied (Flow has read
   * everything). When `deadline` aborts first with data still unread, gives up with an
   * OUTPUT_STALLED error: the sequence being written is incomplete, so it is not committed.
   */
  async close(deadline?: AbortSignal, graceMs?: number): Promise<void> {
    this.closed = true;
    let finished = false;
    // Once a sequence is abandoned, what was written is not waited for: none of it commits.
    const done = this.tail.then(() => (this.broken ? undefined : this.flushed())).then(() => {
      finished = true;
    });
    await (deadline ? Promise.race([done, aborted(deadline)]) : done);
    if (this.broken) {
      this.abandoned = true;
      throw this.broken;
    }
    if (finished || !this.busy()) return;
    this.abandoned = true;
    const pending = this.stream.writableLength;
    const period = `the graceful stop period${graceMs === undefined ? "" : ` (${graceMs} ms)`}`;
    throw new FlowcapError(
      "OUTPUT_STALLED",
      this.active && this.activeLabel !== undefined
        ? `${this.activeLabel} did not end within ${period}: the task did not reach its checkpoint, or Flow did not read its output. That sequence is not committed; the next session resumes from the last checkpoint Flow read`
        : `Flow did not read the connector's output within ${period}: ${this.active ? "the checkpoint sequence being written" : `${pending} byte(s) of the last checkpoint sequence`} could not be written. That sequence is not committed; the next session resumes from the last checkpoint Flow read`,
      { userFacing: true, data: { unwrittenBytes: pending } },
    );
  }

  /** Resolves when everything written has left the stream's buffer (before exiting the process). */
  async flushed(): Promise<void> {
    if (this.failure || this.abandoned || this.stream.writableLength === 0) return;
    await new Promise<void>((resolve) => this.streamWrite("", () => resolve()));
  }

  /** Data is being written or waits in the stream's buffer. */
  private busy(): boolean {
    return !this.failure && (this.active || this.stream.writableLength > 0);
  }

  private readonly writeFn: WriteFn = Object.assign((data: string | Buffer, onWritten?: () => void) => this.writeData(data, onWritten), {
    flush: () => this.uncork(),
    handOverRest: () => {
      this.handingOver = true;
      for (const wake of [...this.waiters]) wake();
    },
  });

  private writeData(data: string | Buffer, onWritten?: () => void): Promise<void> | undefined {
    if (this.failure || this.abandoned) {
      onWritten?.();
      return Promise.reject(this.failure ? this.outputClosed() : new StoppedError("the session has ended: nothing more is written"));
    }
    if (this.active && !this.corked && typeof this.stream.cork === "function") {
      this.stream.cork();
      this.corked = true;
    }
    if (onWritten && !this.copiesOut && typeof data !== "string") data = Buffer.from(data);
    // The stream calls back with an error argument, which onWritten ignores.
    if (this.streamWrite(data, onWritten) || (this.corked && this.stream.writableLength < CORKED_BYTES) || this.handingOver) return undefined;
    // Past the bound: what is gathered goes out now, and the section waits for the stream.
    this.uncork();
    return new Promise<void>((resolve, reject) => {
      const done = () => {
        this.stream.off("drain", done);
        this.waiters.delete(done);
        if (this.failure) reject(this.outputClosed());
        else resolve();
      };
      this.waiters.add(done);
      this.stream.on("drain", done);
    });
  }

  private uncork(): void {
    if (!this.corked) return;
    this.corked = false;
    this.stream.uncork();
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    for (const wake of [...this.waiters]) wake();
  }

  private outputClosed(): FlowcapError {
    return new FlowcapError("OUTPUT_CLOSED", `stdout was closed by its reader: ${this.failure?.message ?? "closed"}`, { cause: this.failure });
  }
}
