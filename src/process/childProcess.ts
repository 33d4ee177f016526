/**
 * Running a child program: the one implementation under both the host harness (a connector run
 * as a black box) and the shims (a wrapped Airbyte source or Singer tap). Nothing here knows a
 * protocol: the host checks each stdout line as a response, a shim maps it to Flow's messages.
 *
 * What it guarantees:
 * - The child is spawned without a shell, with exactly the environment it is given, and dies
 *   with flowcap however flowcap ends (`parentDeath.ts`, `cleanupOnExit.ts`).
 * - Its stdout is split by the core `LineSplitter` and handed out in batches of lines
 *   (`LineBatch`: the chunk read and where its lines end; no view is made per line unless the
 *   consumer asks for lines one by one). At most `highWaterMarkBytes` of unconsumed lines are
 *   held: past that, reading pauses, the pipe fills and the child blocks in its own write, so a
 *   slow consumer slows the child instead of growing memory.
 * - Its stderr is split into lines, each handed to `onStderrLine`; the last ones are kept for
 *   the error that reports a failure.
 * - `stop()` sends SIGTERM, then SIGKILL after `killTimeoutMs`; an `AbortSignal` can do it.
 * - A child that writes nothing, on stdout or stderr, for `idleTimeoutMs` while its reader waits
 *   for it (not while the reader is busy elsewhere) looks hung: it is stopped and reading fails
 *   with a SOURCE_IDLE error. A coarse timer compares a counter of the chunks read, so this
 *   costs nothing per line.
 * - A child that cannot start, exits non-zero or dies by a signal it was not sent by `stop()`
 *   is reported as a `ChildProcessError` with its exit status and the tail of its stderr.
 */
import { spawn } from "node:child_process";
import type { Readable, Writable } from "node:stream";
import { LineSplitter, DEFAULT_MAX_LINE_BYTES, type LineBatch } from "../protocol/index.js";
import { FlowcapError } from "../util/errors.js";
import { humanDuration } from "../util/format.js";
import { collectYoungGarbage } from "../util/youngGarbage.js";
import { ChildProcessError, type ChildExit } from "./childProcessError.js";
import { cleanupOnExit } from "./cleanupOnExit.js";
import { parentDeathUnavailable, withParentDeathSignal } from "./parentDeath.js";

/** How long a child gets to exit after SIGTERM before it is killed. */
export const DEFAULT_KILL_TIMEOUT_MS = 10_000;
/** Unconsumed stdout held before reading pauses. */
export const DEFAULT_STDOUT_HIGH_WATER_MARK_BYTES = 1024 * 1024;
/** stderr lines kept for a failure report. */
export const DEFAULT_STDERR_TAIL_LINES = 20;
/** A stderr line longer than this is handed on truncated. */
export const DEFAULT_MAX_STDERR_LINE_CHARS = 64 * 1024;
/** The idle timer checks at most this far apart (and at least 10 times per timeout). */
const MAX_IDLE_CHECK_MS = 60_000;
/**
 * Every this many bytes read from a child's stdout, the reads' dead buffers are collected (see
 * collectYoungGarbage): what a fast child leaves in memory stays within this, not V8's 64 MB.
 */
const GARBAGE_EVERY_BYTES = 8 * 1024 * 1024;
/** A stderr line kept in the tail is cut to this length. */
const MAX_TAIL_LINE_CHARS = 2000;

/**
 * A process as the handle drives it: its three pipes, a way to signal it, and its end. A
 * spawned `ChildProcess` is one; the testing kit runs connectors in-process behind it.
 */
export interface LaunchedChild {
  readonly pid?: number | undefined;
  readonly stdin: Writable | null;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  kill(signal?: NodeJS.Signals): boolean;
  on(event: "close", listener: (code: number | null, signal: NodeJS.Signals | null) => void): this;
  on(event: "error", listener: (error: Error) => void): this;
}

/** Where the handle reports what it does to the child (a stop, a kill); a flowcap `Logger` is one. */
export interface ChildLog {
  debug(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

export interface StartChildOptions {
  /** The command and its arguments: no shell, no globbing. */
  argv: readonly string[];
  /** The child's whole environment; default this process's. */
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** How errors and logs name the process; default the argv joined with spaces. */
  label?: string;
  /** Start it in a process group of its own (a Ctrl-C at the terminal then reaches flowcap alone). */
  detached?: boolean;
  /** Keep its stdin open for `stdin` writes; default false: closed at once (the child reads nothing). */
  keepStdinOpen?: boolean;
  /** Starts the child some other way than spawning `argv` (an in-process connector); not tracked for orphans. */
  launch?: () => LaunchedChild;
  /** Aborting it stops the child (SIGTERM, then SIGKILL). */
  signal?: AbortSignal;
  /** After `stop()`'s SIGTERM, how long the child gets before SIGKILL; default DEFAULT_KILL_TIMEOUT_MS. */
  killTimeoutMs?: number;
  /** How long the child may write nothing while its reader waits before it is taken for hung; default 0, never. */
  idleTimeoutMs?: number;
  /** How the idle failure tells the user to raise the timeout (`--idle-timeout-ms`). */
  idleTimeoutHint?: string;
  /** Unconsumed stdout held before reading pauses; default DEFAULT_STDOUT_HIGH_WATER_MARK_BYTES. */
  highWaterMarkBytes?: number;
  /** A longer stdout line fails reading with a LineTooLongError. */
  maxLineBytes?: number;
  /** stderr lines kept for a failure report; default DEFAULT_STDERR_TAIL_LINES. */
  stderrTailLines?: number;
  /** A longer stderr line is handed on truncated; default DEFAULT_MAX_STDERR_LINE_CHARS. */
  maxStderrLineChars?: number;
  /** Each non-blank stderr line, without its line ending. */
  onStderrLine?: (text: string) => void;
  /** Where stops and kills are reported; default nowhere. */
  log?: ChildLog;
}

/** Starts a child process; see the module comment for what it guarantees. */
export function startChild(options: StartChildOptions): ChildProcessHandle {
  return new ChildProcessHandle(options);
}

const quiet: ChildLog = { debug: () => {}, warn: () => {} };
let reportedNoParentDeath = false;

/**
 * A running child process, in the spirit of vitest's `PoolWorker`: its stdout as lines
 * (`lineBatches`, `consume`), `stop()`, `exited`, and the tail of its stderr. Created by
 * `startChild()`.
 */
export class ChildProcessHandle {
  /** How errors and logs name the process. */
  readonly label: string;
  /** Resolves once the process has exited and its stdout and stderr are closed. Never rejects. */
  readonly exited: Promise<ChildExit>;
  /** The process itself (its pipes, its pid): for what the handle does not do, such as signalling its group. */
  readonly child: LaunchedChild;

  private readonly log: ChildLog;
  private readonly killTimeoutMs: number;
  private readonly highWaterMarkBytes: number;
  private readonly tailLines: number;
  private readonly tail: string[] = [];
  private readonly stdout: Readable;
  private spawnError: Error | undefined;
  private exit: ChildExit | undefined;
  private stopping = false;
  private killTimer: NodeJS.Timeout | undefined;

  // Idle detection: chunks read (stdout and stderr), compared by a coarse timer.
  private readonly idleTimeoutMs: number;
  private readonly idleTimeoutHint: string;
  private activity = 0;
  private seenActivity = 0;
  private quietSince = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  private idleFailure: FlowcapError | undefined;

  // stdout, as a queue of line batches with a high-water mark.
  private readonly splitter: LineSplitter;
  private readonly batches: LineBatch[] = [];
  private readonly batchBytes: number[] = [];
  private queuedBytes = 0;
  /** Bytes handed to the consumer since the last collection of young garbage. */
  private readBytes = 0;
  private stdoutEnded = false;
  private stdoutFailure: unknown;
  private paused = false;
  private wake: (() => void) | undefined;
  private reading = false;
  private partialBatch: LineBatch | undefined;

  constructor(options: StartChildOptions) {
    if (!options.argv[0] && !options.launch) throw new FlowcapError("CONFIG_INVALID", "the command to run is empty", { userFacing: true });
    this.label = options.label ?? options.argv.join(" ");
    this.log = options.log ?? quiet;
    this.killTimeoutMs = options.killTimeoutMs ?? DEFAULT_KILL_TIMEOUT_MS;
    this.highWaterMarkBytes = options.highWaterMarkBytes ?? DEFAULT_STDOUT_HIGH_WATER_MARK_BYTES;
    this.tailLines = options.stderrTailLines ?? DEFAULT_STDERR_TAIL_LINES;
    this.idleTimeoutMs = options.idleTimeoutMs ?? 0;
    this.idleTimeoutHint = options.idleTimeoutHint ?? "";
    this.splitter = new LineSplitter(options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES);

    if (options.launch) this.child = options.launch();
    else {
      const env = options.env ?? process.env;
      const { command, args, wrapped } = withParentDeathSignal(options.argv, env, options.cwd);
      if (!wrapped && !reportedNoParentDeath) {
        const why = parentDeathUnavailable();
        if (why) {
          reportedNoParentDeath = true;
          this.log.debug(why);
        }
      }
      this.child = spawn(command, args, { cwd: options.cwd, env, stdio: ["pipe", "pipe", "pipe"], shell: false, windowsHide: true, detached: options.detached ?? false });
    }
    const { stdin, stdout, stderr } = this.child;
    if (!stdin || !stdout || !stderr) throw new FlowcapError("INTERNAL", `${this.label} was started without its three pipes`);
    this.stdout = stdout;
    // The child may exit without reading its input: its exit status tells the story.
    stdin.on("error", () => {});
    if (!options.keepStdinOpen) stdin.end();

    this.exited = new Promise<ChildExit>((resolve) => {
      this.child.on("error", (error) => {
        // Spawning failed (ENOENT, EACCES): no 'close' may follow.
        this.spawnError = error;
        clearInterval(this.idleTimer);
        this.stdoutEnded = true;
        this.wakeReader();
        this.exit = { code: null, signal: null };
        resolve(this.exit);
      });
      this.child.on("close", (code, signal) => {
        clearTimeout(this.killTimer);
        clearInterval(this.idleTimer);
        this.exit ??= { code, signal };
        resolve(this.exit);
      });
    });
    if (!options.launch) {
      // Were flowcap to exit or be interrupted now, the child is asked to stop with it.
      const forget = cleanupOnExit(() => this.kill("SIGTERM"));
      void this.exited.then(forget);
    }

    stdout.on("data", (chunk: Buffer) => this.onStdout(chunk));
    stdout.once("end", () => this.onStdoutEnd());
    stdout.on("error", (error) => {
      this.stdoutFailure ??= error;
      this.wakeReader();
    });
    this.readStderr(stderr, options.onStderrLine, options.maxStderrLineChars ?? DEFAULT_MAX_STDERR_LINE_CHARS);
    if (this.idleTimeoutMs > 0) {
      this.quietSince = Date.now();
      this.idleTimer = setInterval(() => this.checkIdle(), Math.max(10, Math.min(MAX_IDLE_CHECK_MS, this.idleTimeoutMs / 10)));
      this.idleTimer.unref();
    }

    const { signal } = options;
    if (signal) {
      if (signal.aborted) void this.stop();
      else {
        const onAbort = () => void this.stop();
        signal.addEventListener("abort", onAbort, { once: true });
        void this.exited.then(() => signal.removeEventListener("abort", onAbort));
      }
    }
  }

  /** The child's process id (undefined if it could not be started). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Its stdin (open only with `keepStdinOpen`). */
  get stdin(): Writable {
    return this.child.stdin!;
  }

  /** True once stop() was called: the child's exit is then expected, not a failure. */
  get stopRequested(): boolean {
    return this.stopping;
  }

  /** Why the child could not be started (ENOENT, EACCES), once that is known; undefined otherwise. */
  get startError(): Error | undefined {
    return this.spawnError;
  }

  /**
   * The batch holding stdout's last line when stdout ended without a newline after it (a write
   * cut short), once that batch has been queued; undefined otherwise.
   */
  get partialLastBatch(): LineBatch | undefined {
    return this.partialBatch;
  }

  /** The last lines the child wrote to stderr. */
  stderrTail(): string[] {
    return [...this.tail];
  }

  /**
   * The child's stdout as batches of lines (see `LineBatch`: each is the consumer's, which may
   * overwrite lines it has read), in order. Reading is driven by the consumer: while it does not
   * ask for the next batch, at most the high-water mark is buffered and the child blocks. May be
   * iterated once. Throws a LineTooLongError for a line over the limit.
   */
  async *lineBatches(): AsyncGenerator<LineBatch, void, undefined> {
    if (this.reading) throw new FlowcapError("INTERNAL", `the stdout of ${this.label} is already being read`);
    this.reading = true;
    for (;;) {
      const batch = this.batches.shift();
      if (batch) {
        const bytes = this.batchBytes.shift()!;
        this.queuedBytes -= bytes;
        this.readBytes += bytes;
        if (this.readBytes >= GARBAGE_EVERY_BYTES) {
          this.readBytes = 0;
          collectYoungGarbage();
        }
        if (this.paused && this.queuedBytes < this.highWaterMarkBytes / 2) {
          this.paused = false;
          this.stdout.resume();
        }
        yield batch;
        continue;
      }
      if (this.stdoutFailure !== undefined) throw this.stdoutFailure;
      if (this.stdoutEnded) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  /**
   * Reads the child to its end: feeds each stdout line to `onLine`, in order, waiting whenever
   * it returns a promise (so a slow consumer slows the child), then waits for the exit.
   *
   * Resolves "completed" when the child exited 0, and "stopped" when `signal` was aborted (the
   * child is then stopped; what it wrote after the batch being read is not fed) or the child
   * was stopped otherwise. Throws what `onLine` throws, after stopping the child; a
   * LineTooLongError; or the ChildProcessError of a failed exit, led by `detail()` (what the
   * child reported of its failure, read once it has exited).
   */
  consume(onLine: (line: Buffer) => void | Promise<void>, options: { signal?: AbortSignal; detail?: () => string | undefined } = {}): Promise<"completed" | "stopped"> {
    return this.consumeBatches(async (batch) => {
      for (let k = 0; k < batch.count; k++) {
        const wait = onLine(batch.line(k));
        if (wait !== undefined) await wait;
      }
    }, options);
  }

  /**
   * Like consume(), a batch of lines at a time (see `LineBatch`): the record path of the shims,
   * which walks the lines by offset and may build Flow's lines in place in the batch's buffer.
   * `onBatch` returns a promise when the reader must wait before the next batch.
   */
  async consumeBatches(onBatch: (batch: LineBatch) => void | Promise<void>, options: { signal?: AbortSignal; detail?: () => string | undefined } = {}): Promise<"completed" | "stopped"> {
    const { signal } = options;
    try {
      for await (const batch of this.lineBatches()) {
        const wait = onBatch(batch);
        if (wait !== undefined) await wait;
        if (signal?.aborted) break;
      }
    } catch (error) {
      await this.stop();
      throw error;
    }
    if (signal?.aborted) {
      await this.stop();
      return "stopped";
    }
    // What the child says of its failure may come on stderr after its stdout closed: read the
    // detail once it has exited (its stderr is then read to the end), not when stdout ends.
    await this.exited;
    await this.result(options.detail?.());
    return this.stopping ? "stopped" : "completed";
  }

  /**
   * Waits for the child to exit and returns how it exited. Throws a ChildProcessError when it
   * could not start, or exited non-zero or by a signal without having been stopped by us.
   * `detail` (what the child reported, e.g. its own error message) leads that error's message.
   */
  async result(detail?: string): Promise<ChildExit> {
    const exit = await this.exited;
    if (this.idleFailure) throw this.idleFailure;
    if (this.spawnError) throw this.failure(exit, detail);
    if (!this.stopping && (exit.code !== 0 || exit.signal !== null)) throw this.failure(exit, detail);
    return exit;
  }

  /** The ChildProcessError describing `exit` (or the failure to start). */
  failure(exit: ChildExit, detail?: string): ChildProcessError {
    return new ChildProcessError(this.label, this.spawnError ? { spawnError: this.spawnError } : exit, this.stderrTail(), { detail });
  }

  /**
   * Asks the child to stop: SIGTERM now, SIGKILL if it has not exited after the kill timeout.
   * What it writes on stdout from now on is discarded (so it cannot block on a full pipe while
   * exiting). Resolves once it has exited.
   */
  stop(): Promise<ChildExit> {
    if (this.exit === undefined && !this.stopping) {
      this.stopping = true;
      this.batches.length = 0;
      this.batchBytes.length = 0;
      this.queuedBytes = 0;
      this.stdoutEnded = true;
      this.wakeReader();
      if (this.paused) {
        this.paused = false;
        this.stdout.resume();
      }
      this.log.debug(`stopping ${this.label}: sending SIGTERM`, { pid: this.child.pid });
      this.child.kill("SIGTERM");
      this.killTimer = setTimeout(() => {
        if (this.exit === undefined) {
          this.log.warn(`${this.label} did not exit within ${this.killTimeoutMs} ms of SIGTERM: killing it`, { pid: this.child.pid });
          this.child.kill("SIGKILL");
        }
      }, this.killTimeoutMs);
    }
    return this.exited;
  }

  /** Sends `signal` to the child if it still runs, and nothing else: its output is still read. */
  kill(signal: NodeJS.Signals): void {
    if (this.exit === undefined) this.child.kill(signal);
  }

  /**
   * The idle timer's tick: the child is quiet while nothing arrives and its reader waits for it
   * (the reader waits for a batch, or stdout ended but the child has not exited); time the
   * reader spends busy elsewhere (a shim behind on Flow's backpressure) does not count.
   */
  private checkIdle(): void {
    const now = Date.now();
    const waitingForChild = this.wake !== undefined || (this.stdoutEnded && this.exit === undefined);
    if (this.activity !== this.seenActivity || !waitingForChild || this.stopping) {
      this.seenActivity = this.activity;
      this.quietSince = now;
      return;
    }
    if (now - this.quietSince < this.idleTimeoutMs) return;
    clearInterval(this.idleTimer);
    this.idleFailure = new FlowcapError(
      "SOURCE_IDLE",
      `${this.label} wrote nothing, on stdout or stderr, for ${humanDuration(now - this.quietSince)}: it looks hung, so it was stopped. If it is only slow, raise the idle timeout${this.idleTimeoutHint ? ` (${this.idleTimeoutHint}, now ${this.idleTimeoutMs}; 0 disables it)` : ""}`,
      { userFacing: true, data: { command: this.label, idleTimeoutMs: this.idleTimeoutMs } },
    );
    void this.stop();
  }

  private onStdout(chunk: Buffer): void {
    this.activity++;
    if (this.stopping) return; // discarding
    try {
      this.splitter.pushBatch(chunk, this.enqueue);
    } catch (error) {
      this.stdoutFailure ??= error;
      this.stdout.pause();
      this.wakeReader();
      return;
    }
    if (this.queuedBytes >= this.highWaterMarkBytes && !this.paused) {
      this.paused = true;
      this.stdout.pause();
    }
  }

  private readonly enqueue = (batch: LineBatch): void => {
    const bytes = batch.bytes;
    this.batches.push(batch);
    this.batchBytes.push(bytes);
    this.queuedBytes += bytes;
    this.wakeReader();
  };

  private onStdoutEnd(): void {
    if (!this.stopping && this.stdoutFailure === undefined) {
      this.splitter.endBatch((batch) => {
        this.partialBatch = batch;
        this.enqueue(batch);
      });
    }
    this.stdoutEnded = true;
    this.wakeReader();
  }

  private wakeReader(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private readStderr(stream: Readable, onLine: ((text: string) => void) | undefined, maxChars: number): void {
    let partial = "";
    const emit = (line: string) => {
      const text = line.endsWith("\r") ? line.slice(0, -1) : line;
      if (text.trim() === "") return;
      this.tail.push(text.length > MAX_TAIL_LINE_CHARS ? text.slice(0, MAX_TAIL_LINE_CHARS) + "…" : text);
      if (this.tail.length > this.tailLines) this.tail.shift();
      onLine?.(text);
    };
    const cut = (line: string) => (line.length > maxChars ? line.slice(0, maxChars) + "… (truncated)" : line);
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => {
      this.activity++;
      const parts = (partial + chunk).split("\n");
      partial = parts.pop()!;
      if (partial.length > maxChars) {
        emit(cut(partial));
        partial = "";
      }
      for (const part of parts) emit(cut(part));
    });
    stream.on("end", () => {
      if (partial) emit(partial);
      partial = "";
    });
    stream.on("error", () => {});
  }
}
