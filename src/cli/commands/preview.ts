import { parseDurationSeconds, runPreview } from "../../host/index.js";
import { isPlainObject } from "../../util/mergePatch.js";
import { UsageError } from "../args.js";
import { defineCommand } from "../command.js";
import { catalogOptions, loadSelectedCapture } from "../context.js";
import { Output } from "../output.js";
import { connectorLogPrinter } from "../reporters/logs.js";
import { ProgressLine } from "../reporters/progress.js";

function duration(flag: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const seconds = parseDurationSeconds(String(value));
  if (seconds === undefined) throw new UsageError(`--${flag} ${JSON.stringify(value)} is not a duration (like 10s, 2m or 1h30m)`);
  return seconds * 1000;
}

/** "1,2,-1" → [1, 2, -1]. */
export function parseSessions(value: string): number[] {
  const parts = value.split(",").map((s) => s.trim());
  if (!parts.length || parts.some((p) => !/^-?\d+$/.test(p))) throw new UsageError(`--sessions ${JSON.stringify(value)} must be a comma-separated list of transaction counts, like 1,2,-1`);
  return parts.map(Number);
}

const command = defineCommand(
  {
    name: "preview",
    summary: "run a capture locally and print what it captures, as `flowctl preview` does",
    usage: "flowcap preview --source <flow.yaml> [--capture <name>] [--sessions N[,M...]] [--delay 10s] [--timeout 1m] [--initial-state '<json>'] [--output-state] [--output-apply]",
    options: {
      ...catalogOptions,
      sessions: { type: "string", value: "<N[,M...]>", description: "transactions each session runs before it is stopped, per session; negative = unbounded (default: one unbounded session)" },
      delay: { type: "string", value: "<duration>", description: "wait between transactions, folding the checkpoints read meanwhile into one" },
      timeout: { type: "string", value: "<duration>", description: "stop the preview gracefully after this long" },
      "initial-state": { type: "string", value: "<json>", description: "the connector state the first session opens with" },
      "output-state": { type: "boolean", description: 'print ["connectorState", {...}] for each transaction, and the final state' },
      "output-apply": { type: "boolean", description: 'print ["applied.actionDescription", "..."]' },
    },
  },
  async ({ values }) => {
    let initialState: Record<string, unknown> | undefined;
    if (values["initial-state"] !== undefined) {
      try {
        const parsed: unknown = JSON.parse(String(values["initial-state"]));
        if (!isPlainObject(parsed)) throw new Error("not an object");
        initialState = parsed;
      } catch (error) {
        throw new UsageError(`--initial-state must be a JSON object (${(error as Error).message})`);
      }
    }
    const sessions = values.sessions !== undefined ? parseSessions(String(values.sessions)) : undefined;
    const delayMs = duration("delay", values.delay);
    const timeoutMs = duration("timeout", values.timeout);
    const { catalog, capture } = await loadSelectedCapture(values);

    const out = new Output();
    const progress = new ProgressLine(process.stderr);
    const printLog = connectorLogPrinter(process.stderr, () => progress.clear());
    const interrupt = new AbortController();
    let interrupts = 0;
    const onSigint = () => {
      if (++interrupts > 1) process.exit(130);
      progress.clear();
      process.stderr.write("flowcap: stopping the capture (Ctrl-C again to kill it)\n");
      interrupt.abort();
    };
    process.on("SIGINT", onSigint);
    void out.closed.then(() => interrupt.abort());
    try {
      const result = await runPreview(catalog, capture, {
        ...(sessions ? { sessions } : {}),
        ...(delayMs !== undefined ? { delayMs } : {}),
        ...(timeoutMs !== undefined ? { timeoutMs } : {}),
        ...(initialState ? { initialState } : {}),
        outputState: values["output-state"] === true,
        outputApply: values["output-apply"] === true,
        logLevel: values["log-level"] as string | undefined,
        signal: interrupt.signal,
        reporter: {
          document: (collection, doc) => out.line(JSON.stringify([collection, doc])),
          state: (state) => out.line(JSON.stringify(["connectorState", state])),
          applied: (description) => out.line(JSON.stringify(["applied.actionDescription", description])),
          log: (log) => printLog(log),
          progress: (stats) => progress.update(stats),
          notice: (message) => {
            progress.clear();
            process.stderr.write(`flowcap: ${message}\n`);
          },
        },
      });
      progress.finish();
      if (result.ended === "timeout") process.stderr.write(`flowcap: stopped after --timeout ${String(values.timeout)}\n`);
      return 0;
    } finally {
      progress.clear();
      process.off("SIGINT", onSigint);
    }
  },
);

export const run = command.run;
export const spec = command.spec;
