import { createRequire } from "node:module";
import { format } from "node:util";
import type { Logger } from "../../runtime/index.js";
import { FlowcapError } from "../../util/errors.js";
import { isPlainObject, type JsonObject } from "../../util/mergePatch.js";
import { collectSecrets } from "../../util/redact.js";
import { relayLine } from "../logRelay.js";
import { logAirbyteLog, logTraceError, type AirbyteMessageSink } from "./session.js";
import type { AirbyteReadOutcome, AirbyteSource } from "./source.js";
import { decodeCompressedState } from "./state.js";
import type { AirbyteCatalog, AirbyteConnectionStatus, AirbyteConnectorSpecification, AirbyteMessage } from "./types.js";

/**
 * What the adapter needs of a source written with `faros-airbyte-cdk` (an `AirbyteSourceBase`).
 * Typed structurally, so flowcap does not depend on the CDK: any `AirbyteSourceBase` fits.
 */
export interface FarosSourceLike {
  spec(...args: never[]): Promise<unknown>;
  check(config: never): Promise<unknown>;
  discover(config: never): Promise<unknown>;
  read(config: never, redactedConfig: never, catalog: never, state: never): AsyncIterable<unknown>;
  onBeforeRun?(config: never): Promise<unknown>;
  onBeforeRead?(config: never, catalog: never, state: never): Promise<unknown>;
  onAfterRead?(config: never): Promise<unknown>;
}

/** The CDK helpers the adapter uses when they are available. */
export interface FarosCdkHelpers {
  /** The CDK's `addSourceCommonProperties`: the config properties every Faros source accepts. */
  addSourceCommonProperties?(spec: unknown): unknown;
}

export interface FarosSourceOptions {
  /** How logs and errors name the source; default its class name. */
  label?: string;
  /**
   * The CDK's helpers, to make the spec exactly what the source's own CLI prints. By default
   * they are loaded from the installed `faros-airbyte-cdk` when there is one.
   */
  cdk?: FarosCdkHelpers;
}

interface Callable {
  spec(): Promise<unknown>;
  check(config: JsonObject): Promise<unknown>;
  discover(config: JsonObject): Promise<unknown>;
  read(config: JsonObject, redactedConfig: JsonObject, catalog: unknown, state: unknown): AsyncIterable<unknown>;
  onBeforeRun?(config: JsonObject): Promise<unknown>;
  onBeforeRead?(config: JsonObject, catalog: unknown, state: unknown): Promise<unknown>;
  onAfterRead?(config: JsonObject): Promise<unknown>;
}

/**
 * Runs a `faros-airbyte-cdk` source in this process, as `AirbyteSourceRunner` would run it on
 * the command line (`onBeforeRun`, `onBeforeRead` with the decompressed state, `read` with a
 * redacted copy of the config, `onAfterRead`), so it needs no child process and no JSON round
 * trip per record: each record's data is serialized once, straight into Flow's message.
 *
 * The CDK writes its logs with `console.log` (to stdout, which is Flow's protocol here): while
 * the source runs, those lines are taken as the Airbyte messages they are and logged on stderr.
 * Its LEGACY state, gzip+base64 compressed by default, is kept decoded in Flow's state and handed
 * back decoded, which the CDK accepts.
 */
export function farosSource(source: FarosSourceLike, options: FarosSourceOptions = {}): AirbyteSource {
  const s = source as unknown as Callable;
  const label = options.label ?? (source as { constructor?: { name?: string } }).constructor?.name ?? "faros source";
  let spec: Promise<AirbyteConnectorSpecification> | undefined;
  const cdk = () => options.cdk ?? loadInstalledCdk();

  const getSpec = (log: Logger) => {
    spec ??= withConsole(log, undefined, async () => {
      let message = await s.spec();
      const add = cdk().addSourceCommonProperties;
      if (add) message = add(message);
      const payload = isPlainObject(message) && isPlainObject(message.spec) ? message.spec : message;
      if (!isPlainObject(payload)) throw new FlowcapError("SOURCE_OUTPUT_INVALID", `${label}.spec() returned no spec`, { userFacing: true });
      return payload as AirbyteConnectorSpecification;
    });
    spec.catch(() => (spec = undefined));
    return spec;
  };

  return {
    label,

    spec(ctx) {
      return getSpec(ctx.log);
    },

    check(config, ctx) {
      return withConsole(ctx.log, undefined, async () => {
        const message = await call(label, "check", ctx.log, () => s.check(config));
        const status = isPlainObject(message) && isPlainObject(message.connectionStatus) ? message.connectionStatus : message;
        return status as unknown as AirbyteConnectionStatus;
      });
    },

    discover(config, ctx) {
      return withConsole(ctx.log, undefined, async () => {
        const message = await call(label, "discover", ctx.log, () => s.discover(config));
        const catalog = isPlainObject(message) && isPlainObject(message.catalog) ? message.catalog : message;
        return catalog as unknown as AirbyteCatalog;
      });
    },

    async read(config, catalog, state, ctx, sink): Promise<AirbyteReadOutcome> {
      const airbyteSpec = await getSpec(ctx.log);
      return withConsole(ctx.log, sink, async () => {
        let cfg = config;
        if (s.onBeforeRun) cfg = (await call(label, "onBeforeRun", ctx.log, () => s.onBeforeRun!(cfg))) as JsonObject;
        let input: { config: JsonObject; catalog: unknown; state?: unknown } = { config: cfg, catalog, state: decodeCompressedState(state?.value) };
        if (s.onBeforeRead) input = (await call(label, "onBeforeRead", ctx.log, () => s.onBeforeRead!(cfg, catalog, input.state))) as typeof input;
        const redacted = redactConfig(airbyteSpec.connectionSpecification, input.config);
        const messages = s.read(input.config, redacted, input.catalog, structuredClone(decodeCompressedState(input.state ?? {})))[Symbol.asyncIterator]();
        try {
          for (;;) {
            if (ctx.signal.aborted) {
              await messages.return?.();
              return "stopped";
            }
            const next = await messages.next();
            if (next.done) break;
            const wait = sink.message(next.value as AirbyteMessage);
            if (wait !== undefined) await wait;
          }
        } catch (error) {
          throw sourceError(label, "read", error, ctx.log);
        }
        if (s.onAfterRead) await call(label, "onAfterRead", ctx.log, () => s.onAfterRead!(cfg));
        return "completed";
      });
    },
  };
}

async function call<T>(label: string, what: string, log: Logger, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw sourceError(label, what, error, log);
  }
}

/** Errors JavaScript itself throws: a bug in the source's code, not something it reports. */
const ENGINE_ERRORS = [TypeError, ReferenceError, SyntaxError, RangeError, EvalError, URIError];

/**
 * The error a source's failure ends the task with. What a source throws on purpose (a VError
 * saying the config lacks a token, an API refusing its credentials, a stream it does not have)
 * is for the user: user-facing, so Flow shows the source's message without a stack, as it does
 * for a source run as a child process; the stack is logged at debug level. An engine error
 * (TypeError, ...) is a bug in the source, reported with its stack. flowcap's own errors (a
 * ConfigError from a source built on flowcap, a stop) pass through as they are.
 */
function sourceError(label: string, what: string, error: unknown, log: Logger): FlowcapError {
  if (error instanceof FlowcapError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const bug = ENGINE_ERRORS.some((kind) => error instanceof kind);
  if (!bug && error instanceof Error) log.debug(`${label} failed in ${what}`, { error: error.stack?.split("\n") ?? error.message });
  return new FlowcapError("SOURCE_FAILED", `${label} failed in ${what}: ${message}`, { cause: error, userFacing: !bug, data: { source: label } });
}

let installedCdk: FarosCdkHelpers | undefined;

/** The helpers of the installed faros-airbyte-cdk, if any (it is the user's dependency, not flowcap's). */
function loadInstalledCdk(): FarosCdkHelpers {
  if (installedCdk) return installedCdk;
  try {
    const required = createRequire(import.meta.url)("faros-airbyte-cdk") as FarosCdkHelpers;
    installedCdk = { addSourceCommonProperties: required.addSourceCommonProperties };
  } catch {
    installedCdk = {};
  }
  return installedCdk;
}

/** A copy of `config` with the values its schema marks secret replaced by "REDACTED", as the CDK's runner passes it. */
export function redactConfig(schema: unknown, config: JsonObject): JsonObject {
  const secrets = new Set(collectSecrets(schema, config));
  const walk = (value: unknown): unknown => {
    if (typeof value === "string" || typeof value === "number") return secrets.has(String(value)) ? "REDACTED" : value;
    if (Array.isArray(value)) return value.map(walk);
    if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v)]));
    return value;
  };
  return walk(config) as JsonObject;
}

type ConsoleMethod = "log" | "info" | "debug" | "dir" | "table";
const STDOUT_METHODS: ConsoleMethod[] = ["log", "info", "debug", "dir", "table"];

interface Redirect {
  log: Logger;
  sink: AirbyteMessageSink | undefined;
}
const redirects: Redirect[] = [];
let saved: Partial<Record<ConsoleMethod, (...args: unknown[]) => void>> | undefined;

/**
 * Runs `fn` with the console's stdout methods turned into log lines: in this process stdout
 * belongs to Flow's protocol. Lines that are Airbyte LOG or TRACE messages (what the CDK's
 * logger prints) are logged as such, and go to `sink` during a read; anything else is logged as
 * text. Nested and concurrent calls share one redirect; the last one out restores the console.
 */
async function withConsole<T>(log: Logger, sink: AirbyteMessageSink | undefined, fn: () => Promise<T>): Promise<T> {
  const redirect: Redirect = { log, sink };
  if (redirects.length === 0) {
    saved = {};
    for (const method of STDOUT_METHODS) {
      // biome-ignore lint/suspicious/noConsole: this saves the console's methods to redirect the CDK's prints into the logger; it prints nothing
      saved[method] = console[method] as (...args: unknown[]) => void;
      console[method] = (...args: unknown[]) => consoleLine(format(...args));
    }
  }
  redirects.push(redirect);
  try {
    return await fn();
  } finally {
    redirects.splice(redirects.indexOf(redirect), 1);
    if (redirects.length === 0 && saved) {
      for (const method of STDOUT_METHODS) console[method] = saved[method] as never;
      saved = undefined;
    }
  }
}

function consoleLine(text: string): void {
  const target = redirects[redirects.length - 1];
  if (!target) return;
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    let message: unknown;
    try {
      message = line.startsWith("{") ? JSON.parse(line) : undefined;
    } catch {
      message = undefined;
    }
    if (isPlainObject(message) && (message.type === "LOG" || message.type === "TRACE")) {
      if (target.sink) void target.sink.message(message as AirbyteMessage);
      else if (message.type === "LOG") logAirbyteLog(target.log, message.log);
      else if (isPlainObject(message.trace) && message.trace.type === "ERROR") logTraceError(target.log, message.trace as never);
      else target.log.debug("Airbyte trace", { trace: message.trace });
    } else {
      relayLine(target.log, line, { stream: "console" });
    }
  }
}
