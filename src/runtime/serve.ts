import type { Readable, Writable } from "node:stream";
import {
  decodeRequest,
  encodeResponse,
  readLines,
  PROTOCOL_VERSION,
  DEFAULT_MAX_LINE_BYTES,
  type DecodedRequest,
  type EncodeOptions,
  type Line,
  type Response,
} from "../protocol/index.js";
import { FlowcapError } from "../util/errors.js";
import { collectSecrets } from "../util/redact.js";
import type { Connector, ConnectorSpec, RequestContext } from "./connector.js";
import { createLogger, parseLogLevel, type Logger } from "./log.js";
import { routeConsoleToLog } from "./console.js";
import { logFatal } from "./fatal.js";
import { Session } from "./session.js";
import { DEFAULT_SPOOL_MEMORY_BYTES } from "./spool.js";
import { ResponseWriter } from "./writer.js";

/** How long capture tasks get to reach their next checkpoint once stdin closes or SIGTERM arrives. */
export const DEFAULT_GRACEFUL_STOP_MS = 30_000;

export interface ServeOptions {
  /** Requests; default process.stdin. */
  stdin?: Readable;
  /** Responses (the protocol, and nothing else); default process.stdout. */
  stdout?: Writable;
  /** Logs; default process.stderr. */
  stderr?: Writable;
  /** Environment for `LOG_LEVEL`; default process.env. */
  env?: Record<string, string | undefined>;
  /**
   * Exit the process when done, once stdout and stderr are flushed. Default: true when serving
   * the process's own stdio, false when streams are passed in (tests).
   */
  exit?: boolean;
  /** Stop gracefully on SIGTERM and log uncaught errors as the final line. Default: as `exit`. */
  handleSignals?: boolean;
  /**
   * Turn what the global `console` prints, and what code writes with `process.stdout.write`,
   * into log lines while serving, so nothing but protocol messages reaches stdout (see
   * routeConsoleToLog). Default: true when serving the process's own stdio.
   */
  routeConsole?: boolean;
  gracefulStopMs?: number;
  maxLineBytes?: number;
  /**
   * Bytes of pending documents (captured since their task's last checkpoint, or waiting for a
   * slow reader) that all tasks together keep in memory before spilling to a temporary file;
   * default 16 MiB.
   */
  spoolMemoryBytes?: number;
  /** Response encoding options, e.g. `emitIsFallbackKey` for newer runtimes. */
  encode?: Omit<EncodeOptions, "onUnknownField">;
}

/**
 * Serves Flow's capture protocol for `connector` on stdin/stdout, logging JSON to stderr, until
 * the exchange ends. Resolves to the exit code: 0 at stdin EOF after unary requests, or when a
 * capture session completes or stops cleanly; 1 after an error, which is logged as the last line.
 *
 * ```ts
 * import { serve } from "flowcap";
 * await serve(connector);
 * ```
 */
export async function serve(connector: Connector, options: ServeOptions = {}): Promise<number> {
  const ownStdio = options.stdin === undefined && options.stdout === undefined;
  const exit = options.exit ?? ownStdio;
  const handleSignals = options.handleSignals ?? exit;
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const log = createLogger({ stream: stderr, level: parseLogLevel((options.env ?? process.env).LOG_LEVEL) });
  const server = new RequestServer(connector, options, new ResponseWriter(stdout), log);

  // stderr failing (EPIPE: whoever read the logs, Flow's runtime, is gone) leaves nobody to tell:
  // exit at once. Otherwise the failure is an uncaught error, whose log line fails again, and
  // the process spins on that forever (an orphan at full CPU).
  const onStderrError = () => process.exit(1);
  if (exit) stderr.on("error", onStderrError);
  const detach = handleSignals ? server.attachToProcess() : () => {};
  const restoreConsole = (options.routeConsole ?? ownStdio) ? routeConsoleToLog(log) : () => {};
  let code: number;
  try {
    code = await server.run(options.stdin ?? process.stdin);
  } finally {
    restoreConsole();
    // A process about to exit keeps its SIGTERM handler: a signal that arrives while the last
    // lines are flushed must not kill it (the exit status would say "killed", not 0).
    if (!exit) detach();
  }
  if (exit) {
    await server.flushed();
    await new Promise<void>((resolve) => stderr.write("", () => resolve()));
    process.exit(code);
  }
  return code;
}

class RequestServer {
  private readonly terminate = new AbortController();
  private session: Session | undefined;
  private specCache: Promise<ConnectorSpec> | undefined;
  private readonly encodeOptions: EncodeOptions;

  constructor(
    private readonly connector: Connector,
    private readonly options: ServeOptions,
    private readonly writer: ResponseWriter,
    private readonly log: Logger,
  ) {
    this.encodeOptions = {
      ...options.encode,
      onUnknownField: (path) => this.log.warn(`dropped field ${path}: Flow does not know it and would reject the response`),
    };
  }

  flushed(): Promise<void> {
    return this.writer.flushed();
  }

  /** SIGTERM stops gracefully; an error nobody caught is logged as the final line. */
  attachToProcess(): () => void {
    const onTerm = () => {
      this.log.debug("received SIGTERM");
      this.stop("SIGTERM");
    };
    let failing = false;
    const onUncaught = (error: unknown) => {
      // Once: an error while reporting the first (its log line failing) must not loop.
      if (failing) return;
      failing = true;
      logFatal(this.log, error);
      void this.writer.flushed().finally(() => process.exit(1));
    };
    process.on("SIGTERM", onTerm);
    process.on("uncaughtException", onUncaught);
    process.on("unhandledRejection", onUncaught);
    return () => {
      process.off("SIGTERM", onTerm);
      process.off("uncaughtException", onUncaught);
      process.off("unhandledRejection", onUncaught);
    };
  }

  private stop(reason: string): void {
    this.terminate.abort(reason);
    this.session?.stop(reason);
  }

  async run(stdin: Readable): Promise<number> {
    const lines = readLines(stdin, { maxLineBytes: this.options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES });
    const terminated = new Promise<"terminated">((resolve) => this.terminate.signal.addEventListener("abort", () => resolve("terminated"), { once: true }));
    let sessionDone: Promise<number> | undefined;
    try {
      for (;;) {
        // Outside a session, SIGTERM ends the loop; inside one, the session decides when to end.
        const next = lines.next();
        const outcome = await Promise.race([next, sessionDone ?? terminated]);
        if (typeof outcome === "number") return outcome; // the session ended by itself
        if (outcome === "terminated") return 0;
        if (outcome.done) break;
        const line: Line = outcome.value;
        if (line.text.trim() === "") continue;
        const request = decodeRequest(line.text, line.number);
        if (this.session) {
          this.handleDuringSession(request, line.number);
          continue;
        }
        if (request.variant === "open") {
          sessionDone = (await this.open(request.open)).done;
        } else {
          await this.unary(request, line.number);
          if (this.terminate.signal.aborted) return 0;
        }
      }
    } catch (error) {
      if (this.session) {
        this.session.stop("request stream failed");
        await sessionDone?.catch(() => 1);
      }
      logFatal(this.log, error);
      return 1;
    }
    // stdin EOF.
    if (!sessionDone || !this.session) return 0;
    this.session.stop("stdin closed");
    return await sessionDone;
  }

  private handleDuringSession(request: DecodedRequest, lineNumber: number): void {
    if (request.variant === "acknowledge") {
      this.session!.acknowledge(request.acknowledge.checkpoints);
      return;
    }
    throw new FlowcapError("REQUEST_UNEXPECTED", `request line ${lineNumber}: unexpected ${request.variant} request during a capture session (only acknowledge may follow open)`, {
      userFacing: true,
      data: { line: lineNumber },
    });
  }

  private context(): RequestContext {
    return { log: this.log, signal: this.terminate.signal };
  }

  private async respond(response: Response): Promise<void> {
    await this.writer.write(encodeResponse(response, this.encodeOptions));
  }

  private async unary(request: Exclude<DecodedRequest, { variant: "open" }>, lineNumber: number): Promise<void> {
    const ctx = this.context();
    switch (request.variant) {
      case "spec": {
        // A spec request may carry the capture's real config (flowctl raw spec does): its
        // secrets are registered before the connector sees it, like every other request's, once
        // a spec has told which fields are secret. A first spec request with an empty config (the
        // runtime's internal one) is its own answer: the connector is not asked twice for it.
        const config = request.spec.config;
        if (this.specCache || Object.keys(config).length > 0) await this.registerSecrets(config);
        const spec = { ...(await this.connector.spec(request.spec, ctx)), protocol: PROTOCOL_VERSION };
        this.specCache ??= Promise.resolve(spec);
        await this.respond({ spec });
        return;
      }
      case "discover":
        await this.registerSecrets(request.discover.config);
        await this.respond({ discovered: await this.connector.discover(request.discover, ctx) });
        return;
      case "validate":
        await this.registerSecrets(request.validate.config);
        await this.respond({ validated: await this.connector.validate(request.validate, ctx) });
        return;
      case "apply":
        await this.registerSecrets(request.apply.capture.config);
        await this.respond({ applied: this.connector.apply ? await this.connector.apply(request.apply, ctx) : { actionDescription: "" } });
        return;
      case "acknowledge":
        throw new FlowcapError("REQUEST_UNEXPECTED", `request line ${lineNumber}: acknowledge without an open capture session`, {
          userFacing: true,
          data: { line: lineNumber },
        });
    }
  }

  /** Writes `opened`, starts the capture, and returns a promise of the session's exit code. */
  private async open(request: Extract<DecodedRequest, { variant: "open" }>["open"]): Promise<{ done: Promise<number> }> {
    await this.registerSecrets(request.capture.config);
    const started = await this.connector.open(request, this.context());
    const opened = started.opened ?? {};
    const session = new Session({
      writer: this.writer,
      log: this.log,
      bindingCount: request.capture.bindings.length,
      explicitAcknowledgements: opened.explicitAcknowledgements === true,
      spoolMemoryBytes: this.options.spoolMemoryBytes ?? DEFAULT_SPOOL_MEMORY_BYTES,
      gracefulStopMs: this.options.gracefulStopMs ?? DEFAULT_GRACEFUL_STOP_MS,
    });
    await this.respond({ opened });
    this.session = session;
    if (this.terminate.signal.aborted) session.stop(String(this.terminate.signal.reason));
    this.log.event.status("Capture started.", { bindings: request.capture.bindings.length });
    const done = session.run(started).then(
      () => 0,
      (error: unknown) => {
        logFatal(this.log, error);
        return 1;
      },
    );
    return { done };
  }

  /**
   * Registers the config's secret values with the logger, so no log line shows them. The config
   * schema comes from the connector's own spec, asked for once.
   */
  private async registerSecrets(config: Record<string, unknown>): Promise<void> {
    try {
      this.specCache ??= Promise.resolve(this.connector.spec({ config: {} }, this.context()));
      const spec = await this.specCache;
      this.log.redactor.add(collectSecrets(spec.configSchema, config));
    } catch (error) {
      this.log.debug("could not read the config schema to find secrets", { error: String(error) });
    }
  }
}
