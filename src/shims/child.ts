/**
 * Running a wrapped program (an Airbyte source, a Singer tap) for a shim: the process core
 * (`../process/`: lines, backpressure, stop, failures, children that die with flowcap) with what
 * a shim adds on top: the environment policy (`childEnv.ts`), stderr relayed as log lines
 * (`logRelay.ts`), and the idle timeout a source gets by default.
 */
import { startChild, type ChildProcessHandle } from "../process/index.js";
import type { Logger, LogLevel } from "../runtime/index.js";
import { childEnv } from "./childEnv.js";
import { relayLine } from "./logRelay.js";

/**
 * How long a child may write nothing (no line on stdout or stderr) while the shim waits for it,
 * before it is taken for hung: 3 hours, as the Airbyte platform's heartbeat allows a source
 * between messages (and it counts only records and states; this counts logs too). Sources
 * that wait out long rate limits or slow queries in silence stay within it.
 */
const DEFAULT_IDLE_TIMEOUT_MS = 3 * 60 * 60 * 1000;

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

/** One operation of a wrapped program, as `startProgram` runs it. */
export interface ProgramOperation {
  /** The operation, after the program's label in errors and logs (`read`, `--discover`). */
  what: string;
  log: Logger;
  signal: AbortSignal;
  /** Fields on every log line of the operation (`{ source: label }`). */
  logFields: Record<string, unknown>;
  /** Level of stderr lines that carry no level of their own; default "info". */
  stderrLevel?: LogLevel;
  /** Overrides the program's kill timeout (a probe's is short). */
  killTimeoutMs?: number;
  /** The parent environment; default `process.env`. */
  parentEnv?: Record<string, string | undefined>;
}

/**
 * Starts one operation of a wrapped program: its argv with `args` added, named `<label> <what>`
 * in errors, logging with `logFields`, its environment made by `childEnv` and its stderr
 * relayed as log lines.
 */
export function startProgram(program: ProgramOptions, args: readonly string[], operation: ProgramOperation): ChildProcessHandle {
  const label = `${program.label ?? program.argv.join(" ")} ${operation.what}`;
  const log = operation.log.child(operation.logFields);
  const { env, heldBack } = childEnv({ env: program.env, clean: program.cleanEnv, inherit: program.inheritEnv, inheritPrefixes: program.inheritEnvPrefixes, parentEnv: operation.parentEnv });
  if (heldBack.length) log.debug(`${label}: holding back ${heldBack.length} environment variable(s) (--clean-env): ${heldBack.join(", ")}`);
  const level = operation.stderrLevel ?? "info";
  return startChild({
    argv: [...program.argv, ...args],
    label,
    log,
    env,
    cwd: program.cwd,
    signal: operation.signal,
    killTimeoutMs: operation.killTimeoutMs ?? program.killTimeoutMs,
    idleTimeoutMs: program.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
    idleTimeoutHint: "--idle-timeout-ms",
    highWaterMarkBytes: program.highWaterMarkBytes,
    maxLineBytes: program.maxLineBytes,
    onStderrLine: (text) => relayLine(log, text, { stream: "stderr" }, level),
  });
}
