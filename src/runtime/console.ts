import { Console } from "node:console";
import { Writable } from "node:stream";
import type { Logger, LogLevel } from "./log.js";

/** Text written to stdout without a newline is held up to this length, then logged as it is. */
const MAX_PENDING_CHARS = 64 * 1024;

/**
 * Turns what a connector (or a library it uses) prints into log lines while `serve()` owns
 * stdout: stdout is Flow's protocol, and one stray line would be a line Flow cannot parse,
 * failing the task.
 *
 * - The global `console` is replaced (rather than a few of its methods, so that every method is
 *   covered, `console.table` and `console.group` included): what `console.log`/`info`/`debug`/
 *   `dir`/`table` print becomes an `info` log line, what `console.warn`/`error`/`trace` print a
 *   `warn` line, one per call (a multi-line table or stack stays one line), with
 *   `fields.source: "console"`.
 * - `process.stdout.write` is replaced too: what code writes there directly becomes `info` log
 *   lines with `fields.source: "stdout"`, one per write that ends a line (text without a newline
 *   waits for the rest of its line). The runtime's own writer is not affected: it keeps the
 *   stream's own `write`, taken before this runs (see ResponseWriter).
 *
 * Every line is redacted like every log line. Returns the function that restores both, logging
 * any text still waiting for its newline.
 */
export function routeConsoleToLog(log: Logger): () => void {
  const previous = globalThis.console;
  globalThis.console = new Console({ stdout: callStream(log, "info"), stderr: callStream(log, "warn"), colorMode: false });
  const restoreStdout = guardStdoutWrite(log, process.stdout);
  return () => {
    globalThis.console = previous;
    restoreStdout();
  };
}

/** A stream each of whose writes (one console call) is one log line at `level`. */
function callStream(log: Logger, level: LogLevel): Writable {
  return new Writable({
    decodeStrings: false,
    write(chunk: string | Buffer, _encoding, done) {
      logText(log, level, String(chunk), "console");
      done();
    },
  });
}

/** Logs `text` without its trailing newline, unless it is blank. */
function logText(log: Logger, level: LogLevel, text: string, source: string): void {
  const message = text.endsWith("\n") ? text.slice(0, text.endsWith("\r\n") ? -2 : -1) : text;
  if (message.trim() !== "") log.log(level, message, { source });
}

type WriteCallback = (error?: Error | null) => void;

/** What a `write(chunk, encoding)` call writes, as text. */
function textOf(chunk: unknown, encoding: string | undefined): string {
  if (typeof chunk === "string") return encoding && encoding !== "utf8" && encoding !== "utf-8" && Buffer.isEncoding(encoding) ? Buffer.from(chunk, encoding).toString("utf8") : chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString("utf8");
  return String(chunk);
}

/** Replaces `stream.write` with one that logs; returns the function that puts the stream's own back. */
function guardStdoutWrite(log: Logger, stream: NodeJS.WriteStream): () => void {
  const own = Object.getOwnPropertyDescriptor(stream, "write");
  let pending = "";
  const guarded = function (chunk: unknown, encoding?: BufferEncoding | WriteCallback, callback?: WriteCallback): boolean {
    const done = typeof encoding === "function" ? encoding : callback;
    pending += textOf(chunk, typeof encoding === "string" ? encoding : undefined);
    const end = pending.lastIndexOf("\n");
    if (end >= 0) {
      logText(log, "info", pending.slice(0, end + 1), "stdout");
      pending = pending.slice(end + 1);
    }
    if (pending.length > MAX_PENDING_CHARS) {
      logText(log, "info", pending, "stdout");
      pending = "";
    }
    if (done) process.nextTick(done);
    return true;
  };
  Object.defineProperty(stream, "write", { value: guarded, configurable: true, writable: true, enumerable: false });
  return () => {
    if (pending) logText(log, "info", pending, "stdout");
    pending = "";
    if (own) Object.defineProperty(stream, "write", own);
    else delete (stream as { write?: unknown }).write;
  };
}
