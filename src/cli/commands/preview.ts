import { existsSync } from "node:fs";
import { readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { InterruptedError, parseDurationSeconds, runPreview, type CaptureDef, type OpsLog } from "../../host/index.js";
import { writeConfigToFile } from "../../oauth/index.js";
import { isPlainObject } from "../../util/mergePatch.js";
import { UsageError } from "../args.js";
import { defineCommand } from "../command.js";
import { catalogOptions, loadSelectedCapture } from "../context.js";
import { Output } from "../output.js";
import { connectorLogPrinter } from "../reporters/logs.js";
import { ProgressLine } from "../reporters/progress.js";
import { previewSummary } from "../reporters/summary.js";

function duration(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const seconds = parseDurationSeconds(value);
  if (seconds === undefined) throw new UsageError(`--${flag} ${JSON.stringify(value)} is not a duration (like 10s, 2m or 1h30m)`);
  return seconds * 1000;
}

/** "1,2,-1" → [1, 2, -1]. */
export function parseSessions(value: string): number[] {
  const parts = value.split(",").map((s) => s.trim());
  if (!parts.length || parts.some((p) => !/^-?\d+$/.test(p))) throw new UsageError(`--sessions ${JSON.stringify(value)} must be a comma-separated list of transaction counts, like 1,2,-1`);
  return parts.map(Number);
}

/**
 * A string as Rust's `{:?}` prints it, which is how flowctl prints apply's action description:
 * quoted, with `"`, `\`, and control characters escaped (`\n`, `\u{1b}`).
 */
export function rustDebugString(text: string): string {
  let out = '"';
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === "\\") out += "\\" + ch;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (c === 0) out += "\\0";
    else if (c < 0x20 || (c >= 0x7f && c < 0xa0)) out += `\\u{${c.toString(16)}}`;
    else out += ch;
  }
  return out + '"';
}

/** The starting state: the state file's, or --initial-state, or {}; JSON text, read digit for digit later. */
async function startingState(stateFile: string | undefined, initial: string | undefined): Promise<string | undefined> {
  if (stateFile && existsSync(stateFile)) {
    if (initial !== undefined) throw new UsageError(`--initial-state and --state-file ${stateFile} both give a starting state: ${stateFile} exists, so drop --initial-state (or the file)`);
    return (await readFile(stateFile, "utf8")).trim();
  }
  if (initial === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(initial);
    if (!isPlainObject(parsed)) throw new Error("not an object");
  } catch (error) {
    throw new UsageError(`--initial-state must be a JSON object (${(error as Error).message})`);
  }
  return initial;
}

/** Replaces a file atomically (written beside it, then renamed), so a crash never leaves half a state. */
async function writeAtomically(file: string, text: string): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.flowcap-${process.pid}.tmp`);
  await writeFile(tmp, text);
  await rename(tmp, file);
}

/** Saves a config a connector updated (configUpdate) where the capture's config came from. */
async function saveConfig(capture: CaptureDef, config: Record<string, unknown>, say: (message: string) => void): Promise<void> {
  const endpoint = capture.endpoint;
  if (endpoint.kind !== "local") return;
  const rel = (f: string) => path.relative(process.cwd(), f) || f;
  if (endpoint.configEncrypted) {
    say(`the connector updated its endpoint config (configUpdate): this run's later sessions use it, but ${rel(endpoint.configFile!)} is sops-encrypted and was left as it is; update it before the next run (a rotated refresh token is lost otherwise)`);
    return;
  }
  const target = endpoint.configFile ? { file: endpoint.configFile, configPath: [] as string[] } : { file: capture.file, configPath: ["captures", capture.name, "endpoint", "local", "config"] };
  await writeConfigToFile(target.file, config, { configPath: target.configPath });
  say(`the connector updated its endpoint config (configUpdate): the next sessions use it, and it was saved to ${rel(target.file)}`);
}

const command = defineCommand(
  {
    name: "preview",
    summary: "run a capture locally and print what it captures, as `flowctl preview` does",
    usage:
      "flowcap preview --source <flow.yaml> [--name <capture>] [--sessions N[,M...]] [--delay 10s] [--timeout 1m] [--initial-state '<json>' | --state-file <file>] [--output-state] [--output-apply] [--log-json]",
    options: {
      ...catalogOptions,
      sessions: { type: "string", value: "<N[,M...]>", description: "transactions each session runs before it is stopped, per session; negative = unbounded (default: one unbounded session)" },
      delay: { type: "string", value: "<duration>", description: "sleep this long before every poll for a transaction, the first included, folding the checkpoints read meanwhile into one" },
      timeout: {
        type: "string",
        value: "<duration>",
        description: "end a session that has nothing to commit for this long (counted from its start or last transaction); also bounds validate, apply and open (default: no limit)",
      },
      "initial-state": { type: "string", value: "<json>", description: "the connector state the first session opens with" },
      "state-file": {
        type: "string",
        value: "<file>",
        description: "start from the state in this file (when it exists) and write the state back to it after each transaction, so the next preview resumes",
      },
      "output-state": { type: "boolean", description: 'print ["connectorState",{...}] for each transaction, and the final state' },
      "output-apply": { type: "boolean", description: 'print ["applied.actionDescription", "..."] for each session\'s apply' },
      "log-json": { type: "boolean", description: "print the connector's logs as JSON lines (Flow's ops log format) instead of text" },
      network: { type: "string", value: "<name>", description: "accepted for flowctl's sake and ignored: flowcap runs local connectors, not images in a Docker network" },
    },
  },
  async ({ values }) => {
    const stateFile = values["state-file"] !== undefined ? path.resolve(values["state-file"]) : undefined;
    const initialState = await startingState(stateFile, values["initial-state"]);
    const sessions = values.sessions !== undefined ? parseSessions(values.sessions) : undefined;
    const delayMs = duration("delay", values.delay);
    const timeoutMs = duration("timeout", values.timeout);
    if (values.network !== undefined) process.stderr.write(`flowcap: warning: --network ${values.network} is ignored: flowcap runs local connectors (endpoint.local), not images\n`);
    const { catalog, capture } = await loadSelectedCapture(values);

    const out = new Output();
    const progress = new ProgressLine(process.stderr);
    // stdout on the same terminal: the status line is cleared before each row, never written into one.
    if (process.stdout.isTTY) out.beforeWrite = () => progress.clear();
    const say = (message: string) => {
      progress.clear();
      process.stderr.write(`flowcap: ${message}\n`);
    };
    const printLog = values["log-json"]
      ? (log: OpsLog) => {
          progress.clear();
          process.stderr.write(JSON.stringify({ ...(log.ts ? { ts: log.ts } : {}), level: log.level, message: log.message, ...(Object.keys(log.fields).length ? { fields: log.fields } : {}) }) + "\n");
        }
      : connectorLogPrinter(process.stderr, () => progress.clear());
    const interrupt = new AbortController();
    let interrupts = 0;
    const onSigint = () => {
      if (++interrupts > 1) process.exit(130);
      say("stopping the capture (Ctrl-C again to kill it)");
      interrupt.abort();
    };
    process.on("SIGINT", onSigint);
    void out.closed.then(() => interrupt.abort());
    try {
      const result = await runPreview(catalog, capture, {
        ...(sessions ? { sessions } : {}),
        ...(delayMs !== undefined ? { delayMs } : {}),
        ...(timeoutMs !== undefined ? { timeoutMs, timeoutSource: `--timeout ${values.timeout}` } : {}),
        ...(initialState !== undefined ? { initialState } : {}),
        outputState: values["output-state"] === true,
        outputApply: values["output-apply"] === true,
        logLevel: values["log-level"],
        signal: interrupt.signal,
        ...(stateFile ? { onCommit: (json: string) => writeAtomically(stateFile, json + "\n") } : {}),
        onConfigUpdate: (config) => saveConfig(capture, config, say),
        reporter: {
          // As flowctl prints them (crates/flowctl/src/preview/mod.rs): no space after the comma.
          document: (collection, _doc, json) => out.line(`[${JSON.stringify(collection)},${json}]`),
          state: (_state, _final, json) => out.line(`["connectorState",${json}]`),
          applied: (description) => out.line(`["applied.actionDescription", ${rustDebugString(description)}]`),
          log: (log) => printLog(log),
          progress: (stats) => progress.update(stats),
          sessionEnded: (session, reason) => {
            if (reason === "idle") say(`session ${session}: nothing to commit for ${values.timeout} (--timeout), so it was ended`);
          },
          notice: say,
        },
      });
      progress.clear();
      if (stateFile) await writeAtomically(stateFile, result.stateJson + "\n");
      process.stderr.write(previewSummary(result.stats, result.sessions.length));
      return 0;
    } catch (error) {
      if (!(error instanceof InterruptedError)) throw error;
      progress.clear();
      process.stderr.write(`flowcap: ${error.message}\n`);
      return 130;
    } finally {
      progress.clear();
      process.off("SIGINT", onSigint);
    }
  },
);

export const run = command.run;
export const spec = command.spec;
