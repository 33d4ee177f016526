/**
 * Errors that flowcap's callers catch. They never cross the wire: what Flow sees of a failure
 * (the last log line and the exit code) is decided only in `runtime/`.
 *
 * These live in `util/` rather than `protocol/` because every layer throws them and `util/`
 * is the only folder everything may import.
 */

/** Stable codes; callers branch on these, never on message text. */
export type FlowcapErrorCode =
  | "CONFIG_INVALID"
  | "RESOURCE_NOT_FOUND"
  | "REQUEST_INVALID"
  | "REQUEST_UNEXPECTED"
  | "LINE_TOO_LONG"
  | "RESPONSE_INVALID"
  | "STATE_INVALID"
  | "CAPTURE_FAILED"
  | "OUTPUT_CLOSED"
  /** Flow did not read the connector's output before the stop's grace period ended. */
  | "OUTPUT_STALLED"
  | "STOPPED"
  | "CATALOG_INVALID"
  | "CONNECTOR_FAILED"
  | "PROTOCOL_VIOLATION"
  | "DOCUMENT_INVALID"
  | "TIMEOUT"
  /** An option given to a flowcap library function or command is out of range or malformed. */
  | "OPTION_INVALID"
  /** A command line flowcap's CLI cannot run: printed with the command's help, exit 2. */
  | "USAGE_INVALID"
  // Conformance checks (host/): how a check reports an outcome other than pass or fail.
  /** A check that cannot run against this connector (it needs what an earlier check did not learn). */
  | "CHECK_SKIPPED"
  /** A check's finding that does not fail the suite. */
  | "CHECK_WARNING"
  | "INTERNAL"
  // HTTP client (sdk/http)
  | "HTTP_STATUS"
  | "HTTP_NETWORK"
  | "HTTP_BODY_INVALID"
  // OAuth (oauth/)
  | "OAUTH_TEMPLATE"
  | "OAUTH_FLOW"
  | "OAUTH_TOKEN"
  | "OAUTH_REAUTHORIZE"
  // Shims (shims/)
  /** A child process (a wrapped source) could not start, exited non-zero or was killed. */
  | "CHILD_FAILED"
  /** A wrapped source reported a failure of its own (an Airbyte TRACE error, a failed check). */
  | "SOURCE_FAILED"
  /** A wrapped source wrote output its protocol does not allow (a RECORD whose data is not an object). */
  | "SOURCE_OUTPUT_INVALID"
  /** A wrapped source wrote nothing (no line on stdout or stderr) for the idle timeout: it looks hung. */
  | "SOURCE_IDLE"
  /** An Airbyte source's declarative OAuth has no sound Flow equivalent (the spec then goes without oauth2). */
  | "OAUTH_NOT_DERIVABLE"
  // Testing kit (testing/)
  /** A value differs from its checked-in snapshot. */
  | "SNAPSHOT_MISMATCH";

export interface FlowcapErrorOptions {
  /** Extra structured detail, logged under `fields`. */
  data?: Record<string, unknown>;
  /** The error this one wraps. */
  cause?: unknown;
  /**
   * True when the error is the user's mistake (bad config, unknown resource, bad input):
   * it is logged as a readable message without a stack trace.
   */
  userFacing?: boolean;
}

export class FlowcapError extends Error {
  readonly code: FlowcapErrorCode;
  readonly data: Record<string, unknown> | undefined;
  readonly userFacing: boolean;

  constructor(code: FlowcapErrorCode, message: string, options: FlowcapErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.data = options.data;
    this.userFacing = options.userFacing ?? false;
  }
}

/** One problem with a config, a resource config or another user-supplied document. */
export interface ConfigProblem {
  /** Where the problem is, as a readable path such as `credentials.client_id` or `bindings[2].name`; "" for the root. */
  path: string;
  message: string;
}

/**
 * The user's configuration is wrong. Printed as a readable list, never with a stack: the
 * equivalent of Estuary's `ValidationError`.
 */
export class ConfigError extends FlowcapError {
  readonly problems: ConfigProblem[];

  constructor(problems: ConfigProblem[] | string, options: { subject?: string; code?: FlowcapErrorCode; cause?: unknown } = {}) {
    const list = typeof problems === "string" ? [{ path: "", message: problems }] : problems;
    super(options.code ?? "CONFIG_INVALID", formatProblems(options.subject, list), {
      userFacing: true,
      cause: options.cause,
      data: list.length > 1 ? { problems: list } : undefined,
    });
    this.problems = list;
  }
}

function formatProblems(subject: string | undefined, problems: ConfigProblem[]): string {
  const line = (p: ConfigProblem) => (p.path ? `${p.path}: ${p.message}` : p.message);
  const head = subject ? `${subject}: ` : "";
  if (problems.length === 1) return head + line(problems[0]!);
  return `${head}${problems.length} problems:\n${problems.map((p) => ` - ${line(p)}`).join("\n")}`;
}

/** True for errors that should be shown to a user without a stack trace. */
export function isUserFacing(error: unknown): boolean {
  return error instanceof FlowcapError && error.userFacing;
}

/**
 * The capture session is stopping (stdin closed, SIGTERM, another task failed): thrown to unwind
 * work that can no longer complete, such as a checkpoint waiting for an acknowledgement that
 * will never come. The runtime treats it as a clean stop, not a failure.
 */
export class StoppedError extends FlowcapError {
  constructor(reason: string) {
    super("STOPPED", `capture stopped: ${reason}`);
  }
}
