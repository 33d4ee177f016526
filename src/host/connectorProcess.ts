import { spawn } from "node:child_process";
import type { Readable, Writable } from "node:stream";
import { LineSplitter, DEFAULT_MAX_LINE_BYTES, type Response } from "../protocol/index.js";
import { FlowcapError } from "../util/errors.js";
import type { LocalEndpoint } from "./catalog.js";
import { decodeOpsLog, type OpsLog } from "./opsLog.js";
import { ResponseChecker, type ResponseEvent } from "./responseChecker.js";
import { ProtocolViolationError } from "./rules.js";

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** The connector process failed: it exited non-zero or was killed. Carries its last log. */
export class ConnectorFailedError extends FlowcapError {
  constructor(
    readonly status: ExitStatus,
    readonly lastLog: OpsLog | undefined,
    readonly stderrTail: string[],
  ) {
    const how = status.signal ? `was killed by ${status.signal}` : `exited with status ${status.code}`;
    const why = lastLog ? `: ${lastLog.message}` : " with no log output";
    super("CONNECTOR_FAILED", `connector ${how}${why}`, { userFacing: true, data: { code: status.code, signal: status.signal } });
  }
}

/**
 * What the host needs of a running connector: its three pipes, a way to signal it, and its
 * end. A spawned ChildProcess is one; the testing kit runs connectors in-process behind it.
 */
export interface ConnectorChild {
  readonly pid?: number | undefined;
  readonly stdin: Writable | null;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  kill(signal?: NodeJS.Signals): boolean;
  on(event: "close", listener: (code: number | null, signal: NodeJS.Signals | null) => void): this;
  on(event: "error", listener: (error: Error) => void): this;
}

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

const STDERR_TAIL = 20;

/** How long Flow's runtime waits for a connector to take an acknowledge from its stdin (flow-protocol.md §0). */
export const ACKNOWLEDGE_TIMEOUT_MS = 10_000;

/**
 * A connector run as a black box, the way Flow's runtime runs a local connector: its argv with no
 * shell, in the catalog's directory, with the endpoint's env and LOG_LEVEL. Requests go to its
 * stdin as JSON lines; every byte of its stdout goes through the ResponseChecker, which stops the
 * run at the first protocol violation.
 */
export class ConnectorProcess {
  readonly child: ConnectorChild;
  readonly exited: Promise<ExitStatus>;
  readonly checker = new ResponseChecker();
  private readonly splitter: LineSplitter;
  private readonly queue: (ResponseEvent | { eof: true } | { error: unknown })[] = [];
  private wake: (() => void) | undefined;
  private readonly highWaterLines: number;
  private paused = false;
  private stdoutEnded = false;
  /** True once the consumer has been told stdout ended; later reads return undefined at once. */
  private drained = false;
  private failure: unknown;
  private endViolation: ProtocolViolationError | undefined;
  private status: ExitStatus | undefined;
  private partialTail = false;
  private readonly stderrTail: string[] = [];
  lastLog: OpsLog | undefined;

  private constructor(endpoint: LocalEndpoint, private readonly options: ConnectorProcessOptions) {
    this.highWaterLines = options.highWaterLines ?? 10_000;
    this.splitter = new LineSplitter(options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES);
    const [command, ...args] = endpoint.command;
    this.child = options.launch
      ? options.launch(endpoint, { ...endpoint.env, LOG_LEVEL: options.logLevel ?? "info" })
      : spawn(command!, args, {
          cwd: endpoint.cwd,
          env: { ...process.env, ...endpoint.env, LOG_LEVEL: options.logLevel ?? "info" },
          stdio: ["pipe", "pipe", "pipe"],
          shell: false,
          // Its own process group: a Ctrl-C at the terminal reaches flowcap alone, which then stops
          // the connector as Flow would (stdin EOF, then SIGTERM), instead of the connector dying
          // of SIGINT mid-transaction. Were flowcap to die, the connector still sees its stdin close.
          detached: true,
        });
    this.exited = new Promise((resolve) => {
      this.child.on("close", (code, signal) => {
        this.status = { code, signal };
        resolve(this.status);
      });
      this.child.on("error", (error) => {
        const message = (error as NodeJS.ErrnoException).code === "ENOENT" ? `cannot start the connector: ${command} was not found (command: ${JSON.stringify(endpoint.command)}, in ${endpoint.cwd})` : `cannot start the connector: ${error.message}`;
        this.push({ error: new FlowcapError("CONNECTOR_FAILED", message, { userFacing: true, cause: error }) });
        this.status = { code: null, signal: null };
        resolve(this.status);
      });
    });
    this.child.stdin!.on("error", () => {
      // The connector may exit without reading all its input; its exit status tells the story.
    });
    const splitStderr = new LineSplitter(options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES);
    const onStderr = (line: Buffer) => {
      const text = line.toString("utf8");
      if (text.trim() === "") return;
      this.stderrTail.push(text);
      if (this.stderrTail.length > STDERR_TAIL) this.stderrTail.shift();
      const log = decodeOpsLog(text);
      // Flow groups consecutive unstructured lines (a traceback, say) into one log, whose
      // message becomes the task's error when it is the last.
      const previous = this.lastLog;
      this.lastLog =
        log.unstructured && previous?.unstructured
          ? { ...previous, message: `${previous.message}\n${log.message}`, level: previous.level === "error" || log.level === "error" ? "error" : log.level }
          : log;
      this.options.onLog?.(log);
    };
    this.child.stderr!.on("data", (chunk: Buffer) => splitStderr.push(chunk, onStderr));
    this.child.stderr!.on("end", () => splitStderr.end(onStderr));
    this.child.stdout!.on("data", (chunk: Buffer) => this.onStdout(chunk));
    this.child.stdout!.on("end", () => this.onStdoutEnd());
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
      if (this.paused && this.queue.length < this.highWaterLines / 2) {
        this.paused = false;
        this.child.stdout!.resume();
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
   * Waits for the process to exit. A non-zero exit is a ConnectorFailedError (with the
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

  /** The error for a failed exit, with the connector's last log line. */
  failed(status: ExitStatus): ConnectorFailedError {
    return new ConnectorFailedError(status, this.lastLog, [...this.stderrTail]);
  }

  /**
   * Stops the connector as Flow ends a session: closes stdin, waits up to `graceMs`, then sends
   * SIGTERM, waits again, then SIGKILL. Resolves with how it exited and whether it had to be
   * signalled.
   */
  async stop(graceMs = 10_000): Promise<ExitStatus & { signalled: boolean }> {
    this.closeInput();
    if (await this.exitsWithin(graceMs)) return { ...this.status!, signalled: false };
    this.child.kill("SIGTERM");
    if (await this.exitsWithin(graceMs)) return { ...this.status!, signalled: true };
    this.child.kill("SIGKILL");
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
    if (!this.status) this.child.kill("SIGKILL");
  }

  private onStdout(chunk: Buffer): void {
    if (this.failure) return;
    try {
      this.splitter.push(chunk, (line, n) => this.push(this.checker.line(line.toString("utf8"), n)));
    } catch (error) {
      this.fail(error);
    }
    if (!this.paused && this.queue.length >= this.highWaterLines) {
      this.paused = true;
      this.child.stdout!.pause();
    }
  }

  private onStdoutEnd(): void {
    if (this.stdoutEnded || this.failure) return;
    this.stdoutEnded = true;
    // Rules about how output ends are judged with the exit status (see finish()): a connector
    // that failed is reported as failed, not for the output its failure cut short.
    this.splitter.end((line, n) => {
      this.partialTail = true;
      this.endViolation ??= new ProtocolViolationError("partial-line", "stdout ended with a line that has no newline", { lineNumber: n, line: line.toString("utf8") });
    });
    this.endViolation ??= this.checker.end();
    this.push({ eof: true });
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
