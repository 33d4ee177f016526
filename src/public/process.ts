/**
 * `flowcap/process`: running a child program the way flowcap runs connectors and wrapped
 * sources. `startChild()` spawns it without a shell, hands out its stdout as batches of lines
 * with a high-water mark (a slow reader slows the child, not memory), keeps the tail of its
 * stderr, stops it with SIGTERM then SIGKILL, and makes it die with this process however it
 * ends; a failure is one `ChildProcessError`. Kept out of the root entry, which must load where
 * processes cannot be spawned.
 */
export {
  startChild,
  ChildProcessError,
  DEFAULT_KILL_TIMEOUT_MS,
  DEFAULT_STDOUT_HIGH_WATER_MARK_BYTES,
  DEFAULT_STDERR_TAIL_LINES,
  DEFAULT_MAX_STDERR_LINE_CHARS,
  type ChildProcessHandle,
  type StartChildOptions,
  type LaunchedChild,
  type ChildLog,
  type ChildExit,
  type ChildOutcome,
  type ChildProcessErrorOptions,
} from "../process/index.js";
