import type { Writable } from "node:stream";
import type { OpsLog } from "../../host/index.js";

const COLORS: Record<string, string> = { error: "\x1b[31m", warn: "\x1b[33m", info: "\x1b[36m", debug: "\x1b[90m", trace: "\x1b[90m" };

/** Formats a connector's log line for a person: `level message key=value ...`, coloured on a TTY. */
export function formatConnectorLog(log: OpsLog, color: boolean): string {
  const fields = Object.entries(log.fields)
    .map(([k, v]) => `${k}=${typeof v === "string" ? (/\s/.test(v) ? JSON.stringify(v) : v) : JSON.stringify(v)}`)
    .join(" ");
  const level = log.level.toUpperCase().padEnd(5);
  const head = color ? `${COLORS[log.level] ?? ""}${level}\x1b[0m` : level;
  return `${head} ${log.message}${fields ? (color ? ` \x1b[90m${fields}\x1b[0m` : ` ${fields}`) : ""}`;
}

/** Writes connector logs to stderr, clearing a progress line first when there is one. */
export function connectorLogPrinter(stderr: Writable & { isTTY?: boolean }, beforeWrite?: () => void) {
  const color = stderr.isTTY === true && !process.env.NO_COLOR;
  return (log: OpsLog) => {
    beforeWrite?.();
    stderr.write(formatConnectorLog(log, color) + "\n");
  };
}
