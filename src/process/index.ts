/**
 * Running child programs: the one child-process core under the host harness and the shims
 * (lines on stdout with a high-water mark, a stderr tail, stop as SIGTERM then SIGKILL, one
 * failure error), children that die with flowcap, and private temp dirs for the files they read.
 * Imports only `protocol` and `util`.
 */
export {
  startChild,
  ChildProcessHandle,
  DEFAULT_KILL_TIMEOUT_MS,
  DEFAULT_STDOUT_HIGH_WATER_MARK_BYTES,
  DEFAULT_STDERR_TAIL_LINES,
  DEFAULT_MAX_STDERR_LINE_CHARS,
  type StartChildOptions,
  type LaunchedChild,
  type ChildLog,
} from "./childProcess.js";
export { ChildProcessError, type ChildExit, type ChildOutcome, type ChildProcessErrorOptions } from "./childProcessError.js";
export { TempDir, withTempDir } from "./tempDir.js";
