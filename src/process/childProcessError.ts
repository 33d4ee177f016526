import { FlowcapError } from "../util/errors.js";

/** How a child process ended: its exit code, or the signal that killed it. */
export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** What ended a child that failed: its exit, or the error that kept it from starting. */
export type ChildOutcome = ChildExit | { spawnError: Error };

export interface ChildProcessErrorOptions {
  /** What the child reported of its own failure (an Airbyte TRACE error, a tap's last exception, a connector's last log). */
  detail?: string;
  /** The whole message, where a caller words it its own way (the host's, as Flow reports a connector's failure). */
  message?: string;
}

/**
 * A child process failed: it could not be started, exited non-zero, or was killed by a signal
 * flowcap did not send. The one error for every child flowcap runs (a connector under the host
 * harness, a wrapped Airbyte source or Singer tap). Carries the command, the exit status and the
 * last lines of the child's stderr; its message is what Flow shows as the task's error, so it
 * leads with what the child itself said (`detail`) when that is known.
 */
export class ChildProcessError extends FlowcapError {
  /** How the child is named in messages (its argv, or a label such as `my-source read`). */
  readonly command: string;
  /** Its exit code; null when it was killed by a signal or could not be started. */
  readonly exitCode: number | null;
  /** The signal that killed it, if any. */
  readonly signal: NodeJS.Signals | null;
  /** The last lines it wrote to stderr (oldest first). */
  readonly stderrTail: readonly string[];
  /** What the child reported of its own failure, if known. */
  readonly detail: string | undefined;

  constructor(command: string, outcome: ChildOutcome, stderrTail: readonly string[], options: ChildProcessErrorOptions = {}) {
    const spawnError = "spawnError" in outcome ? outcome.spawnError : undefined;
    const exit = "spawnError" in outcome ? undefined : outcome;
    super("CHILD_FAILED", options.message ?? defaultMessage(command, outcome, stderrTail, options.detail), {
      userFacing: true,
      cause: spawnError,
      data: { command, ...(exit ? { exitCode: exit.code, signal: exit.signal } : {}) },
    });
    this.command = command;
    this.exitCode = exit?.code ?? null;
    this.signal = exit?.signal ?? null;
    this.stderrTail = stderrTail;
    this.detail = options.detail;
  }
}

/** `<detail> (<command> exited with code N)` and the tail of stderr, or without a detail `<command> exited with code N`. */
function defaultMessage(command: string, outcome: ChildOutcome, stderrTail: readonly string[], detail: string | undefined): string {
  const status = "spawnError" in outcome ? `could not be started: ${outcome.spawnError.message}` : outcome.signal ? `was killed by ${outcome.signal}` : `exited with code ${outcome.code}`;
  const tail = stderrTail.length ? `\nlast lines of its stderr:\n${stderrTail.join("\n")}` : "";
  return `${detail ? `${detail} (${command} ${status})` : `${command} ${status}`}${tail}`;
}
