/**
 * Running a wrapped source as a child process, for every shim (Airbyte, Singer, ...). Nothing
 * here knows a protocol: a shim spawns its source with `startChild()`, reads its stdout as
 * batches of lines, and decides what each line means.
 *
 * What this module guarantees:
 * - The child is spawned without a shell. It inherits the parent's environment, as Docker,
 *   Estuary's airbyte-to-flow and every process runner do (a Dockerfile `ENV`, a catalog's
 *   `env:`, cloud SDK variables, a tap's own settings), plus the connector's own variables.
 *   With `cleanEnv` it gets only an allowlist (`DEFAULT_INHERITED_ENV`, names with a shim's
 *   prefixes such as `AIRBYTE_`, and the names asked for), and the names it held back are
 *   logged at debug.
 * - Its stderr is relayed line by line as log lines, and the last lines are kept for the error
 *   that reports a failure.
 * - Its stdout is split by the core `LineSplitter` and handed out in batches of lines
 *   (`LineBatch`: the chunk read and where its lines end; no view is made per line unless the
 *   consumer asks for lines one by one). At most `highWaterMarkBytes` of unconsumed lines are
 *   held: past that, reading pauses,
 *   the pipe fills and the child blocks in its own write, so a slow consumer (Flow reading our
 *   stdout slowly) slows the child instead of growing our memory.
 * - `terminate()` sends SIGTERM, then SIGKILL after `killTimeoutMs`; an `AbortSignal` can do it.
 * - A child that writes nothing, on stdout or stderr, for `idleTimeoutMs` while the shim waits
 *   for it (not while the shim is behind, waiting on Flow) looks hung: it is terminated and
 *   reading fails with a SOURCE_IDLE error naming it and the silence. A coarse timer compares
 *   a counter of the chunks read, so this costs nothing per line.
 * - A child that cannot start, exits non-zero or dies by a signal (other than one we sent) is
 *   reported as a `ChildProcessError` with its exit status and the tail of its stderr.
 * - `TempDir` writes the files a child reads (configs, catalogs, state) as `*.json`, mode 0600,
 *   in a private directory that is removed afterwards.
 */
import { spawn, type ChildProcessByStdio } from "node:child_process";
import { mkdtemp, open, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Readable, Writable } from "node:stream";
import { LineSplitter, DEFAULT_MAX_LINE_BYTES, type LineBatch } from "../protocol/index.js";
import type { Logger, LogLevel } from "../runtime/index.js";
import { FlowcapError } from "../util/errors.js";
import { humanDuration } from "../util/format.js";
import { collectYoungGarbage } from "../util/youngGarbage.js";
import { isPlainObject } from "../util/mergePatch.js";

/**
 * Environment variables a child inherits from the parent under `cleanEnv` (plus every `LC_*`):
 * what programs need to run (PATH, HOME, locale, temp dirs), reach the network through a proxy
 * and trust its CAs, and Flow's `LOG_LEVEL`; and what a source's own image sets for its runtime
 * (a Python virtualenv, a JVM, Node's module path and options, shared libraries), without which
 * a source that runs on its own fails to start beside flowcap. None of these is a credential.
 * Everything else must then be given explicitly.
 */
export const DEFAULT_INHERITED_ENV: readonly string[] = [
  "PATH",
  "HOME",
  "USER",
  "LOGNAME",
  "SHELL",
  "LANG",
  "LANGUAGE",
  "TZ",
  "TMPDIR",
  "TMP",
  "TEMP",
  "TERM",
  "LOG_LEVEL",
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "NO_PROXY",
  "ALL_PROXY",
  "http_proxy",
  "https_proxy",
  "no_proxy",
  "all_proxy",
  "SSL_CERT_FILE",
  "SSL_CERT_DIR",
  "NODE_EXTRA_CA_CERTS",
  "REQUESTS_CA_BUNDLE",
  "CURL_CA_BUNDLE",
  "SYSTEMROOT",
  // The source's runtime, as its image sets it up.
  "PYTHONPATH",
  "PYTHONHOME",
  "PYTHONUNBUFFERED",
  "PYTHONIOENCODING",
  "PYTHONUTF8",
  "VIRTUAL_ENV",
  "LD_LIBRARY_PATH",
  "JAVA_HOME",
  "JAVA_OPTS",
  "JAVA_TOOL_OPTIONS",
  "NODE_PATH",
  "NODE_OPTIONS",
];

/** Prefixes of variables every child inherits under `cleanEnv`: the locale's. */
export const DEFAULT_INHERITED_ENV_PREFIXES: readonly string[] = ["LC_"];

/** How long a child gets to exit after SIGTERM before it is killed. */
export const DEFAULT_KILL_TIMEOUT_MS = 10_000;
/**
 * How long a child may write nothing (no line on stdout or stderr) while the shim waits for it,
 * before it is taken for hung: 3 hours, as the Airbyte platform's heartbeat allows a source
 * between messages (and it counts only records and states; this counts logs too). Sources
 * that wait out long rate limits or slow queries in silence stay within it.
 */
export const DEFAULT_IDLE_TIMEOUT_MS = 3 * 60 * 60 * 1000;
/** The idle timer checks at most this far apart (and at least 10 times per timeout). */
const MAX_IDLE_CHECK_MS = 60_000;
/** Unconsumed stdout held before reading pauses. */
export const DEFAULT_STDOUT_HIGH_WATER_MARK_BYTES = 1024 * 1024;
/**
 * Every this many bytes read from a child's stdout, the reads' dead buffers are collected (see
 * collectYoungGarbage): what a fast child leaves in memory stays within this, not V8's 64 MB.
 */
const GARBAGE_EVERY_BYTES = 8 * 1024 * 1024;
/** stderr lines kept for a failure report. */
export const DEFAULT_STDERR_TAIL_LINES = 20;
/** A stderr line longer than this is relayed truncated. */
const MAX_STDERR_LINE_CHARS = 64 * 1024;
/** A stderr line kept in the tail is cut to this length. */
const MAX_TAIL_LINE_CHARS = 2000;

/** How a child's environment is made (see `childEnv`). */
export interface ChildEnvOptions {
  /** The connector's own variables, set on top of what is inherited. */
  env?: Record<string, string>;
  /** Inherit only the allowlist (`DEFAULT_INHERITED_ENV`, `LC_*`, `inherit`, `inheritPrefixes`), not the whole environment. */
  clean?: boolean;
  /** Under `clean`: further names to inherit. */
  inherit?: readonly string[];
  /** Under `clean`: prefixes of further names to inherit. */
  inheritPrefixes?: readonly string[];
  /** The parent environment; default `process.env`. */
  parentEnv?: Record<string, string | undefined>;
}

/**
 * The environment of a child: the parent's (default `process.env`), or with `clean` only its
 * allowlisted variables, then `env` (the connector's own variables) on top. `heldBack` names
 * the parent's variables `clean` left out.
 */
export function childEnv(options: ChildEnvOptions = {}): { env: Record<string, string>; heldBack: string[] } {
  const parent = options.parentEnv ?? process.env;
  const names = new Set([...DEFAULT_INHERITED_ENV, ...(options.inherit ?? [])]);
  const prefixes = [...DEFAULT_INHERITED_ENV_PREFIXES, ...(options.inheritPrefixes ?? [])];
  const out: Record<string, string> = {};
  const heldBack: string[] = [];
  for (const [name, value] of Object.entries(parent)) {
    if (value === undefined) continue;
    if (!options.clean || names.has(name) || prefixes.some((p) => name.startsWith(p))) out[name] = value;
    else if (!(options.env && name in options.env)) heldBack.push(name);
  }
  return { env: { ...out, ...options.env }, heldBack: heldBack.sort() };
}

/** How a child process ended. */
export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * A child process failed: it could not start, exited non-zero, or was killed by a signal we did
 * not send. Carries the exit status and the last lines of its stderr; its message is what Flow
 * shows as the task's error, so it leads with what the child itself said (`detail`) when a shim
 * knows it.
 */
export class ChildProcessError extends FlowcapError {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderrTail: readonly string[];

  constructor(label: string, exit: ChildExit | { spawnError: Error }, stderrTail: readonly string[], detail?: string) {
    const status =
      "spawnError" in exit
        ? `could not be started: ${exit.spawnError.message}`
        : exit.signal
          ? `was killed by ${exit.signal}`
          : `exited with code ${exit.code}`;
    const tail = stderrTail.length ? `\nlast lines of its stderr:\n${stderrTail.join("\n")}` : "";
    super("CHILD_FAILED", `${detail ? `${detail} (${label} ${status})` : `${label} ${status}`}${tail}`, {
      userFacing: true,
      cause: "spawnError" in exit ? exit.spawnError : undefined,
      data: {
        command: label,
        ...("spawnError" in exit ? {} : { exitCode: exit.code, signal: exit.signal }),
      },
    });
    this.exitCode = "spawnError" in exit ? null : exit.code;
    this.signal = "spawnError" in exit ? null : exit.signal;
    this.stderrTail = stderrTail;
  }
}

export interface StartChildOptions {
  /** The command and its arguments, as Flow would run it: no shell, no globbing. */
  argv: readonly string[];
  /** Log lines from the child (stderr, relayed stdout) go here. */
  log: Logger;
  /** The connector's own environment variables, set on top of what the child inherits. */
  env?: Record<string, string>;
  /** Inherit only an allowlist of the parent's environment (see `childEnv`); default false: all of it. */
  cleanEnv?: boolean;
  /** Under `cleanEnv`: further variable names to pass through from the parent environment. */
  inheritEnv?: readonly string[];
  /** Under `cleanEnv`: prefixes of further variable names to pass through (a protocol's own, `AIRBYTE_`). */
  inheritEnvPrefixes?: readonly string[];
  /** The parent environment; default `process.env`. */
  parentEnv?: Record<string, string | undefined>;
  cwd?: string;
  /** How errors and logs name the process; default the argv joined with spaces. */
  label?: string;
  /** Aborting it terminates the child (SIGTERM, then SIGKILL). */
  signal?: AbortSignal;
  killTimeoutMs?: number;
  /** How long the child may write nothing while waited for before it is taken for hung (default DEFAULT_IDLE_TIMEOUT_MS; 0 disables). */
  idleTimeoutMs?: number;
  highWaterMarkBytes?: number;
  maxLineBytes?: number;
  stderrTailLines?: number;
  /** Level for stderr lines that carry no level of their own; default "info". */
  stderrLevel?: LogLevel;
}

/** How to run a wrapped program (an Airbyte source, a Singer tap) as a child process. */
export interface ProgramOptions {
  /** The command that starts the program, before the arguments of each operation (`["python3", "main.py"]`). */
  argv: readonly string[];
  /** The program's own environment variables, set on top of what it inherits. */
  env?: Record<string, string>;
  /**
   * Inherit only an allowlist of this process's environment (PATH, HOME, locale, proxies, CAs,
   * language runtimes' variables, the shim's prefixes and `inheritEnv`), as `--clean-env` does.
   * Default false: the program inherits the whole environment, as under Docker.
   */
  cleanEnv?: boolean;
  /** Under `cleanEnv`: more variable names to pass through from this process's environment. */
  inheritEnv?: readonly string[];
  /** Under `cleanEnv`: prefixes of more variable names to pass through; each shim has a default (`AIRBYTE_`, `TAP_`). */
  inheritEnvPrefixes?: readonly string[];
  cwd?: string;
  /** How logs and errors name the program; default its argv. */
  label?: string;
  killTimeoutMs?: number;
  /**
   * How long the program may write nothing (no line on stdout or stderr, logs included) while
   * the shim waits for it, before it is taken for hung and the operation fails (default 3 hours,
   * DEFAULT_IDLE_TIMEOUT_MS; 0 disables it).
   */
  idleTimeoutMs?: number;
  highWaterMarkBytes?: number;
  maxLineBytes?: number;
}

/**
 * Starts one operation of a wrapped program: its argv with `args` added, named `<label> <what>`
 * in errors, logging with `logFields`. `extra` overrides any child option.
 */
export function startProgram(
  program: ProgramOptions,
  args: readonly string[],
  operation: { what: string; log: Logger; signal: AbortSignal; logFields: Record<string, unknown> },
  extra: Partial<StartChildOptions> = {},
): ChildProcessHandle {
  return startChild({
    argv: [...program.argv, ...args],
    label: `${program.label ?? program.argv.join(" ")} ${operation.what}`,
    log: operation.log.child(operation.logFields),
    env: program.env,
    cleanEnv: program.cleanEnv,
    inheritEnv: program.inheritEnv,
    inheritEnvPrefixes: program.inheritEnvPrefixes,
    cwd: program.cwd,
    signal: operation.signal,
    killTimeoutMs: program.killTimeoutMs,
    idleTimeoutMs: program.idleTimeoutMs,
    highWaterMarkBytes: program.highWaterMarkBytes,
    maxLineBytes: program.maxLineBytes,
    ...extra,
  });
}

/** Starts a child process; see the module comment for what it guarantees. */
export function startChild(options: StartChildOptions): ChildProcessHandle {
  return new ChildProcessHandle(options);
}

type Spawned = ChildProcessByStdio<Writable, Readable, Readable>;

/** A running child process. Created by `startChild()`. */
export class ChildProcessHandle {
  /** How errors and logs name the process. */
  readonly label: string;
  /** Resolves once the process has exited and its stdout and stderr are closed. Never rejects. */
  readonly exited: Promise<ChildExit>;

  private readonly proc: Spawned;
  private readonly log: Logger;
  private readonly killTimeoutMs: number;
  private readonly highWaterMarkBytes: number;
  private readonly tailLines: number;
  private readonly tail: string[] = [];
  private spawnError: Error | undefined;
  private exit: ChildExit | undefined;
  private terminating = false;
  private killTimer: NodeJS.Timeout | undefined;

  // Idle detection: chunks read (stdout and stderr), compared by a coarse timer.
  private readonly idleTimeoutMs: number;
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

  constructor(options: StartChildOptions) {
    const [command, ...args] = options.argv;
    if (!command) throw new FlowcapError("CONFIG_INVALID", "the command to run is empty", { userFacing: true });
    this.label = options.label ?? options.argv.join(" ");
    this.log = options.log;
    this.killTimeoutMs = options.killTimeoutMs ?? DEFAULT_KILL_TIMEOUT_MS;
    this.highWaterMarkBytes = options.highWaterMarkBytes ?? DEFAULT_STDOUT_HIGH_WATER_MARK_BYTES;
    this.tailLines = options.stderrTailLines ?? DEFAULT_STDERR_TAIL_LINES;
    this.idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    this.splitter = new LineSplitter(options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES);

    const { env, heldBack } = childEnv({ env: options.env, clean: options.cleanEnv, inherit: options.inheritEnv, inheritPrefixes: options.inheritEnvPrefixes, parentEnv: options.parentEnv });
    if (heldBack.length) this.log.debug(`${this.label}: holding back ${heldBack.length} environment variable(s) (--clean-env): ${heldBack.join(", ")}`);
    this.proc = spawn(command, args, {
      cwd: options.cwd,
      env,
      stdio: ["pipe", "pipe", "pipe"],
      shell: false,
      windowsHide: true,
    });
    // Sources read nothing on stdin (the Airbyte and Singer conventions): close it at once.
    this.proc.stdin.on("error", () => {});
    this.proc.stdin.end();

    this.exited = new Promise<ChildExit>((resolve) => {
      this.proc.once("error", (error) => {
        // Spawning failed (ENOENT, EACCES): no 'close' may follow.
        this.spawnError = error;
        clearInterval(this.idleTimer);
        this.stdoutEnded = true;
        this.wakeReader();
        this.exit = { code: null, signal: null };
        resolve(this.exit);
      });
      this.proc.once("close", (code, signal) => {
        clearTimeout(this.killTimer);
        clearInterval(this.idleTimer);
        this.exit ??= { code, signal };
        resolve(this.exit);
      });
    });

    this.proc.stdout.on("data", (chunk: Buffer) => this.onStdout(chunk));
    this.proc.stdout.once("end", () => this.onStdoutEnd());
    this.proc.stdout.on("error", (error) => {
      this.stdoutFailure ??= error;
      this.wakeReader();
    });
    this.relayStderr(this.proc.stderr, options.stderrLevel ?? "info");
    if (this.idleTimeoutMs > 0) {
      this.quietSince = Date.now();
      this.idleTimer = setInterval(() => this.checkIdle(), Math.max(10, Math.min(MAX_IDLE_CHECK_MS, this.idleTimeoutMs / 10)));
      this.idleTimer.unref();
    }

    if (options.signal) {
      if (options.signal.aborted) void this.terminate();
      else {
        const onAbort = () => void this.terminate();
        options.signal.addEventListener("abort", onAbort, { once: true });
        void this.exited.then(() => options.signal!.removeEventListener("abort", onAbort));
      }
    }
  }

  /** The child's process id (undefined if it could not be started). */
  get pid(): number | undefined {
    return this.proc.pid;
  }

  /** True once terminate() was called: its exit is then expected, not a failure. */
  get terminated(): boolean {
    return this.terminating;
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
          this.proc.stdout.resume();
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
   * child is then terminated; what it wrote after the batch being read is not fed) or the child
   * was terminated otherwise. Throws what `onLine` throws, after terminating the child; a
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
      await this.terminate();
      throw error;
    }
    if (signal?.aborted) {
      await this.terminate();
      return "stopped";
    }
    await this.result(options.detail?.());
    return this.terminating ? "stopped" : "completed";
  }

  /**
   * Waits for the child to exit and returns how it exited. Throws a ChildProcessError when it
   * could not start, or exited non-zero or by a signal without having been terminated by us.
   * `detail` (what the child reported, e.g. its own error message) leads that error's message.
   */
  async result(detail?: string): Promise<ChildExit> {
    const exit = await this.exited;
    if (this.idleFailure) throw this.idleFailure;
    if (this.spawnError) throw new ChildProcessError(this.label, { spawnError: this.spawnError }, this.stderrTail(), detail);
    if (!this.terminating && (exit.code !== 0 || exit.signal !== null)) throw this.failure(exit, detail);
    return exit;
  }

  /** The ChildProcessError describing `exit`. */
  failure(exit: ChildExit, detail?: string): ChildProcessError {
    return this.spawnError ? new ChildProcessError(this.label, { spawnError: this.spawnError }, this.stderrTail(), detail) : new ChildProcessError(this.label, exit, this.stderrTail(), detail);
  }

  /**
   * Asks the child to stop: SIGTERM now, SIGKILL if it has not exited after the kill timeout.
   * What it writes on stdout from now on is discarded (so it cannot block on a full pipe while
   * exiting). Resolves once it has exited.
   */
  terminate(): Promise<ChildExit> {
    if (this.exit === undefined && !this.terminating) {
      this.terminating = true;
      this.batches.length = 0;
      this.batchBytes.length = 0;
      this.queuedBytes = 0;
      this.stdoutEnded = true;
      this.wakeReader();
      if (this.paused) {
        this.paused = false;
        this.proc.stdout.resume();
      }
      this.log.debug(`stopping ${this.label}: sending SIGTERM`, { pid: this.proc.pid });
      this.proc.kill("SIGTERM");
      this.killTimer = setTimeout(() => {
        if (this.exit === undefined) {
          this.log.warn(`${this.label} did not exit within ${this.killTimeoutMs} ms of SIGTERM: killing it`, { pid: this.proc.pid });
          this.proc.kill("SIGKILL");
        }
      }, this.killTimeoutMs);
    }
    return this.exited;
  }

  /**
   * The idle timer's tick: the child is quiet while nothing arrives and the shim waits for it
   * (its reader waits for a batch, or its stdout ended but it has not exited); time the shim
   * spends behind, on Flow's backpressure, does not count.
   */
  private checkIdle(): void {
    const now = Date.now();
    const waitingForChild = this.wake !== undefined || (this.stdoutEnded && this.exit === undefined);
    if (this.activity !== this.seenActivity || !waitingForChild || this.terminating) {
      this.seenActivity = this.activity;
      this.quietSince = now;
      return;
    }
    if (now - this.quietSince < this.idleTimeoutMs) return;
    clearInterval(this.idleTimer);
    this.idleFailure = new FlowcapError(
      "SOURCE_IDLE",
      `${this.label} wrote nothing, on stdout or stderr, for ${humanDuration(now - this.quietSince)}: it looks hung, so it was stopped. If it is only slow, raise the idle timeout (--idle-timeout-ms, now ${this.idleTimeoutMs}; 0 disables it)`,
      { userFacing: true, data: { command: this.label, idleTimeoutMs: this.idleTimeoutMs } },
    );
    void this.terminate();
  }

  private onStdout(chunk: Buffer): void {
    this.activity++;
    if (this.terminating) return; // discarding
    try {
      this.splitter.pushBatch(chunk, this.enqueue);
    } catch (error) {
      this.stdoutFailure ??= error;
      this.proc.stdout.pause();
      this.wakeReader();
      return;
    }
    if (this.queuedBytes >= this.highWaterMarkBytes && !this.paused) {
      this.paused = true;
      this.proc.stdout.pause();
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
    if (!this.terminating) this.splitter.endBatch(this.enqueue);
    this.stdoutEnded = true;
    this.wakeReader();
  }

  private wakeReader(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private relayStderr(stream: Readable, level: LogLevel): void {
    let partial = "";
    const emit = (line: string) => {
      const text = line.endsWith("\r") ? line.slice(0, -1) : line;
      if (text.trim() === "") return;
      this.tail.push(text.length > MAX_TAIL_LINE_CHARS ? text.slice(0, MAX_TAIL_LINE_CHARS) + "…" : text);
      if (this.tail.length > this.tailLines) this.tail.shift();
      relayLine(this.log, text, { stream: "stderr" }, level);
    };
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => {
      this.activity++;
      const parts = (partial + chunk).split("\n");
      partial = parts.pop()!;
      if (partial.length > MAX_STDERR_LINE_CHARS) {
        emit(partial.slice(0, MAX_STDERR_LINE_CHARS) + "… (truncated)");
        partial = "";
      }
      for (const part of parts) emit(part.length > MAX_STDERR_LINE_CHARS ? part.slice(0, MAX_STDERR_LINE_CHARS) + "… (truncated)" : part);
    });
    stream.on("end", () => {
      if (partial) emit(partial);
      partial = "";
    });
    stream.on("error", () => {});
  }
}

/** Maps a level name as programs write it (`WARNING`, `FATAL`, `critical`, `err`) to Flow's levels. */
export function levelFromName(name: unknown, fallback: LogLevel = "info"): LogLevel {
  if (typeof name !== "string") return fallback;
  switch (name.trim().toLowerCase()) {
    case "fatal":
    case "critical":
    case "panic":
    case "error":
    case "err":
      return "error";
    case "warn":
    case "warning":
      return "warn";
    case "info":
    case "notice":
      return "info";
    case "debug":
      return "debug";
    case "trace":
      return "trace";
    default:
      return fallback;
  }
}

/**
 * Relays one line a child wrote (on stderr, or a stdout line that is not a protocol message)
 * as a log line. A JSON object with a level and a message (`{"level","message"}`,
 * `{"levelname","msg"}`, ...) keeps its level and its other fields; anything else is logged as
 * text at `level`.
 */
export function relayLine(log: Logger, text: string, fields: Record<string, unknown>, level: LogLevel = "info"): void {
  if (text.length > 1 && text.charCodeAt(0) === 0x7b /* { */) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (isPlainObject(parsed)) {
      const message = parsed.message ?? parsed.msg;
      const levelName = parsed.level ?? parsed.levelname ?? parsed.severity;
      if (typeof message === "string" && levelName !== undefined) {
        const { message: _m, msg: _g, level: _l, levelname: _n, severity: _s, ...rest } = parsed;
        log.log(levelFromName(levelName, level), message, { ...fields, ...rest });
        return;
      }
    }
  }
  log.log(level, text, fields);
}

/**
 * A private temporary directory (mode 0700) for the files a child reads. Files are written as
 * `<name>.json` with mode 0600 (some sources load them with `require()`, which needs the
 * suffix); `remove()` deletes the directory and everything in it.
 */
export class TempDir {
  private constructor(readonly path: string) {}

  static async create(prefix = "flowcap-"): Promise<TempDir> {
    return new TempDir(await mkdtemp(path.join(tmpdir(), prefix)));
  }

  /** Writes `value` as JSON to `<dir>/<name>.json` (mode 0600) and returns the file's path. */
  async writeJson(name: string, value: unknown): Promise<string> {
    return this.writeText(name, JSON.stringify(value));
  }

  /** Writes text that already is JSON to `<dir>/<name>.json` (mode 0600) and returns the path. */
  async writeText(name: string, json: string): Promise<string> {
    if (!/^[\w.-]+$/.test(name)) throw new FlowcapError("INTERNAL", `invalid temporary file name ${JSON.stringify(name)}`);
    const file = path.join(this.path, `${name}.json`);
    const handle = await open(file, "wx", 0o600);
    try {
      await handle.writeFile(json, "utf8");
    } finally {
      await handle.close();
    }
    return file;
  }

  /** Reads a JSON file back (e.g. a config the child rewrote). */
  async readJson(name: string): Promise<unknown> {
    return JSON.parse(await readFile(path.join(this.path, `${name}.json`), "utf8"));
  }

  /** Removes the directory and its files. Never throws. */
  async remove(): Promise<void> {
    await rm(this.path, { recursive: true, force: true }).catch(() => {});
  }
}

/** Runs `fn` with a fresh TempDir, and removes it afterwards whatever happens. */
export async function withTempDir<T>(fn: (dir: TempDir) => Promise<T>, prefix?: string): Promise<T> {
  const dir = await TempDir.create(prefix);
  try {
    return await fn(dir);
  } finally {
    await dir.remove();
  }
}
