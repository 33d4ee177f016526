import type { Writable } from "node:stream";
import { FlowcapError } from "../util/errors.js";

/** Writes one string to the stream, waiting for 'drain' when its buffer is full. */
export type WriteFn = (data: string | Buffer) => Promise<void>;

/**
 * The single writer of a connector's stdout. Everything that reaches stdout goes through here,
 * one critical section at a time, so a checkpoint sequence is never interleaved with another.
 * Writes honour backpressure: when the reader stalls, `write()` waits for 'drain', and so do
 * the tasks waiting to commit, so memory stays bounded.
 */
export class ResponseWriter {
  private tail: Promise<void> = Promise.resolve();
  private failure: Error | undefined;
  private closed = false;
  private waiters = new Set<() => void>();

  constructor(private readonly stream: Writable) {
    stream.on("error", (error: Error) => this.fail(error));
    stream.on("close", () => this.fail(new Error("stream closed")));
  }

  /**
   * Runs `section` with exclusive use of the stream, after every section queued before it.
   * Resolves when its data has been handed to the stream within its high-water mark.
   */
  exclusive<T>(section: (write: WriteFn) => Promise<T>): Promise<T> {
    const run = this.tail.then(() => {
      if (this.failure) throw this.outputClosed();
      if (this.closed) return new Promise<T>(() => {}); // the process is exiting: never write again
      return section(this.writeFn);
    });
    this.tail = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** Writes one complete message. */
  write(data: string): Promise<void> {
    return this.exclusive((write) => write(data));
  }

  /** Resolves once every queued section has run; no section runs after this. */
  async close(): Promise<void> {
    const tail = this.tail;
    this.closed = true;
    await tail;
  }

  /** Resolves when everything written has left the stream's buffer (before exiting the process). */
  async flushed(): Promise<void> {
    if (this.failure || this.stream.writableLength === 0) return;
    await new Promise<void>((resolve) => this.stream.write("", () => resolve()));
  }

  private readonly writeFn: WriteFn = (data) => {
    if (this.failure) return Promise.reject(this.outputClosed());
    if (this.stream.write(data)) return Promise.resolve();
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
  };

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    for (const wake of [...this.waiters]) wake();
  }

  private outputClosed(): FlowcapError {
    return new FlowcapError("OUTPUT_CLOSED", `stdout was closed by its reader: ${this.failure?.message ?? "closed"}`, { cause: this.failure });
  }
}
