import { DEFAULT_MAX_LINE_BYTES, type LineBatch, type Response } from "../protocol/index.js";
import { ChildProcessError, startChild, type ChildExit, type ChildProcessHandle, type LaunchedChild } from "../process/index.js";
import type { LocalEndpoint } from "./catalog.js";
import { decodeOpsLog, type OpsLog } from "./opsLog.js";
import { ResponseChecker, type ResponseEvent } from "./responseChecker.js";
import { ProtocolViolationError } from "./rules.js";

/** How a connector process ended. */
export type ExitStatus = ChildExit;

/**
 * What the host needs of a running connector: its three pipes, a way to signal it, and its
 * end. A spawned ChildProcess is one; the testing kit runs connectors in-process behind it.
 */
export type ConnectorChild = LaunchedChild;

/** Starts a connector some other way than spawning its command (see ConnectorChild). */
export type ConnectorLauncher = (endpoint: LocalEndpoint, env: Record<string, string>) => ConnectorChild;

export interface ConnectorProcessOptions {
  /** Starts the connector instead of spawning `endpoint.command` (in-process runs). */
  launch?: ConnectorLauncher;
  /** `LOG_LEVEL` for the connector; default info. */
  logLevel?: string;
  /** Every stderr line, decoded as Flow decodes connector logs. */
  onLog?: (log: OpsLog) => void;
  /** Number of captured/checkpoint lines buffered ahead of the consumer before the connector's stdout is paused. */
  highWaterLines?: number;
  maxLineBytes?: number;
}

/** How long Flow's runtime waits for a connector to take an acknowledge from its stdin (flow-protocol.md §0). */
export const ACKNOWLEDGE_TIMEOUT_MS = 10_000;

/**
 * A connector run as a black box, the way Flow's runtime runs a local connector: its argv with no
 * shell, in the catalog's directory, with the endpoint's env and LOG_LEVEL, on the process core
 * (`../process/`: it dies with flowcap, its stdout is read with backpressure). Requests go to
 * its stdin as JSON lines; every line of its stdout goes through the ResponseChecker, which
 * stops the run at the first protocol violation. A failed exit is a ChildProcessError led by the
 * connector's last log, as Flow reports it.
 */
export class ConnectorProcess {
  readonly child: ConnectorChild;
  readonly exited: Promise<ExitStatus>;
  readonly checker = new ResponseChecker();
  private readonly process: ChildProcessHandle;
  private readonly queue: (ResponseEvent | { eof: true } | { error: unknown })[] = [];
  private wake: (() => void) | undefined;
  /** Wakes the reading pump once the consumer has taken responses below the high-water mark. */
  private resumePump: (() => void) | undefined;
  private readonly highWaterLines: number;
  /** True once the consumer has been told stdout ended; later reads return undefined at once. */
  private drained = false;
  private failure: unknown;
  private endViolation: ProtocolViolationError | undefined;
  private status: ExitStatus | undefined;
  private partialTail = false;
  lastLog: OpsLog | undefined;

  private constructor(private readonly endpoint: LocalEndpoint, private readonly options: ConnectorProcessOptions) {
    this.highWaterLines = options.highWaterLines ?? 10_000;
    const env = { ...endpoint.env, LOG_LEVEL: options.logLevel ?? "info" };
    const { launch } = options;
    this.process = startChild({
      argv: endpoint.command,
      label: "connector",
      cwd: endpoint.cwd,
      env: { ...process.env, ...env },
      launch: launch ? () => launch(endpoint, env) : undefined,
      keepStdinOpen: true,
      // Its own process group: a Ctrl-C at the terminal reaches flowcap alone, which then stops
      // the connector as Flow would (stdin EOF, then SIGTERM), instead of the connector dying
      // of SIGINT mid-transaction. Were flowcap to die, the connector dies with it.
      detached: true,
      maxLineBytes: options.maxLineBytes,
      maxStderrLineChars: options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES,
      // The pump below keeps up to highWaterLines checked responses; the core's own buffer stays small.
      highWaterMarkBytes: 256 * 1024,
      onStderrLine: (text) => this.onStderr(text),
    });
    this.child = this.process.child;
    this.exited = this.process.exited.then((status) => (this.status = status));
    void this.pump();
  }

  static start(endpoint: LocalEndpoint, options: ConnectorProcessOptions = {}): ConnectorProcess {
    return new ConnectorProcess(endpoint, options);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Sends one request line; resolves once the pipe has taken it. */
  send(request: Record<string, unknown>): Promise<void> {
    this.checker.sent(request);
    return this.write(JSON.stringify(request) + "\n");
  }

  /**
   * Tells the connector that its `checkpoints` oldest unacknowledged checkpoints are committed, as
   * Flow's runtime does after each transaction of a session that asked for explicit
   * acknowledgements. Like the runtime, gives up on a connector that leaves its input unread.
   */
  async acknowledge(checkpoints: number, timeoutMs = ACKNOWLEDGE_TIMEOUT_MS): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const unread = new Promise<"unread">((r) => (timer = setTimeout(() => r("unread"), timeoutMs)));
    const outcome = await Promise.race([this.send({ acknowledge: { checkpoints } }), unread]);
    clearTimeout(timer);
    if (outcome === "unread") {
      throw new ProtocolViolationError("acknowledgements", `an acknowledge of ${checkpoints} checkpoint(s) was not taken from stdin within ${timeoutMs / 1000}s: the connector requested acknowledgements but is not processing its input`);
    }
  }

  /** Writes raw text to the connector's stdin (for malformed-input checks). */
  write(text: string): Promise<void> {
    return new Promise((resolve) => {
      if (!this.child.stdin!.writable) return resolve();
      this.child.stdin!.write(text, () => resolve());
    });
  }

  /** Closes the connector's stdin. */
  closeInput(): void {
    this.child.stdin!.end();
  }

  /**
   * The next checked response, or undefined once stdout has ended. Throws the first protocol
   * violation. Reading applies backpressure: stdout is paused while responses wait unread.
   */
  async next(): Promise<ResponseEvent | undefined> {
    for (;;) {
      if (this.drained) return undefined;
      const item = this.queue.shift();
      if (this.resumePump && this.queue.length < this.highWaterLines / 2) {
        const resume = this.resumePump;
        this.resumePump = undefined;
        resume();
      }
      if (item) {
        if ("eof" in item) {
          this.drained = true;
          return undefined;
        }
        if ("error" in item) throw item.error;
        return item;
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  /**
   * Waits for the process to exit. A non-zero exit is a ChildProcessError (led by the
   * connector's last log line); a clean exit after output that broke a rule at its end (a partial
   * line, an unanswered request, an open checkpoint sequence) is that ProtocolViolationError.
   */
  async finish(): Promise<ExitStatus> {
    const status = await this.exited;
    if (this.failure) throw this.failure;
    if (status.code !== 0) throw this.failed(status);
    if (this.endViolation) throw this.endViolation;
    return status;
  }

  /**
   * The error for a failed exit: `connector exited with status N: <its last log>`, as Flow
   * reports a connector's failure (its last log line is the task's error).
   */
  failed(status: ExitStatus): ChildProcessError {
    const how = status.signal ? `was killed by ${status.signal}` : `exited with status ${status.code}`;
    const why = this.lastLog ? `: ${this.lastLog.message}` : " with no log output";
    return new ChildProcessError("connector", status, this.process.stderrTail(), { detail: this.lastLog?.message, message: `connector ${how}${why}` });
  }

  /**
   * Stops the connector as Flow ends a session: closes stdin, waits up to `graceMs`, then sends
   * SIGTERM, waits again, then SIGKILL. Resolves with how it exited and whether it had to be
   * signalled.
   */
  async stop(graceMs = 10_000): Promise<ExitStatus & { signalled: boolean }> {
    this.closeInput();
    if (await this.exitsWithin(graceMs)) return { ...this.status!, signalled: false };
    this.process.kill("SIGTERM");
    if (await this.exitsWithin(graceMs)) return { ...this.status!, signalled: true };
    this.process.kill("SIGKILL");
    return { ...(await this.exited), signalled: true };
  }

  /** True if the process exits within `ms`. */
  async exitsWithin(ms: number): Promise<boolean> {
    if (this.status) return true;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([this.exited.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), ms)))]);
    clearTimeout(timer);
    return !timedOut;
  }

  /** True once stdout ended with a partial line (no newline after it): it was never a response. */
  get endedMidLine(): boolean {
    return this.partialTail;
  }

  /** Kills the process at once (cleanup). */
  kill(): void {
    this.process.kill("SIGKILL");
  }

  /**
   * Reads stdout from the process core and checks each line as it arrives, ahead of the
   * consumer by at most `highWaterLines` responses: past that it stops reading, the core's
   * buffer fills, and the connector blocks in its write.
   */
  private async pump(): Promise<void> {
    try {
      for await (const batch of this.process.lineBatches()) {
        if (this.failure) continue; // after a violation, what follows is read and discarded
        this.check(batch);
        if (this.queue.length >= this.highWaterLines) await new Promise<void>((resolve) => (this.resumePump = resolve));
      }
    } catch (error) {
      // A line over the limit.
      this.fail(error);
      return;
    }
    // The core ends stdout at once when the connector could not be started.
    const startError = this.process.startError;
    if (startError) {
      this.fail(this.startFailure(startError));
      return;
    }
    if (this.failure) return;
    // Rules about how output ends are judged with the exit status (see finish()): a connector
    // that failed is reported as failed, not for the output its failure cut short.
    this.endViolation ??= this.checker.end();
    this.push({ eof: true });
  }

  private check(batch: LineBatch): void {
    const partial = batch === this.process.partialLastBatch;
    const lines = partial ? batch.count - 1 : batch.count;
    for (let k = 0; k < lines && !this.failure; k++) {
      try {
        this.push(this.checker.line(batch.line(k).toString("utf8"), batch.firstLine + k));
      } catch (error) {
        this.fail(error);
      }
    }
    if (partial && !this.failure) {
      this.partialTail = true;
      const k = batch.count - 1;
      this.endViolation ??= new ProtocolViolationError("partial-line", "stdout ended with a line that has no newline", { lineNumber: batch.firstLine + k, line: batch.line(k).toString("utf8") });
    }
  }

  private startFailure(error: Error): ChildProcessError {
    const { command, cwd } = this.endpoint;
    const message = (error as NodeJS.ErrnoException).code === "ENOENT" ? `cannot start the connector: ${command[0]} was not found (command: ${JSON.stringify(command)}, in ${cwd})` : `cannot start the connector: ${error.message}`;
    return new ChildProcessError("connector", { spawnError: error }, [], { message });
  }

  private onStderr(text: string): void {
    const log = decodeOpsLog(text);
    // Flow groups consecutive unstructured lines (a traceback, say) into one log, whose
    // message becomes the task's error when it is the last.
    const previous = this.lastLog;
    this.lastLog =
      log.unstructured && previous?.unstructured
        ? { ...previous, message: `${previous.message}\n${log.message}`, level: previous.level === "error" || log.level === "error" ? "error" : log.level }
        : log;
    this.options.onLog?.(log);
  }

  private fail(error: unknown): void {
    this.failure = error;
    this.push({ error });
  }

  private push(item: ResponseEvent | { eof: true } | { error: unknown }): void {
    this.queue.push(item);
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

export type { Response };
