import { FlowcapError, isUserFacing } from "../util/errors.js";
import { errorFields, type Logger } from "./log.js";

/**
 * Logs the error that ends the process, as the last line on stderr: Flow's runtime takes the
 * message of the last log line as the task's error. A user's mistake is logged as a readable
 * message; anything else also carries its stack under `fields.error`.
 */
export function logFatal(log: Logger, error: unknown): void {
  if (isUserFacing(error)) {
    const e = error as FlowcapError;
    log.error(e.message, { code: e.code, ...(e.data ?? {}) });
    return;
  }
  if (error instanceof Error) {
    log.error(error.message || error.name, {
      ...(error instanceof FlowcapError ? { code: error.code, ...(error.data ?? {}) } : {}),
      error: errorFields(error),
    });
    return;
  }
  log.error(`connector failed: ${String(error)}`);
}
