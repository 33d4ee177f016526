import { DEFAULT_CRASH_TRIALS, MAX_CRASH_SEED, parseDurationSeconds, selectChecks, type CheckResult } from "../../host/index.js";
import { defaultChecks, runChecks } from "../../testing/conformance.js";
import { FlowcapError } from "../../util/errors.js";
import { UsageError } from "../args.js";
import { defineCommand } from "../command.js";
import { catalogOptions, loadSelectedCapture } from "../context.js";
import { Output } from "../output.js";

const MARK: Record<CheckResult["status"], string> = { pass: "PASS", fail: "FAIL", warn: "WARN", skip: "SKIP" };

/** The results as a table for people. */
export function resultsTable(results: CheckResult[]): string {
  const idWidth = Math.max(5, ...results.map((r) => r.id.length));
  const lines = [`${"check".padEnd(idWidth)}  result  detail`, `${"-".repeat(idWidth)}  ------  ------`];
  for (const r of results) {
    const [first, ...rest] = r.detail.split("\n");
    lines.push(`${r.id.padEnd(idWidth)}  ${MARK[r.status].padEnd(6)}  ${r.title}: ${first}`);
    for (const more of rest) lines.push(`${" ".repeat(idWidth + 10)}${more}`);
  }
  const count = (s: CheckResult["status"]) => results.filter((r) => r.status === s).length;
  lines.push("", `${count("pass")} passed, ${count("fail")} failed, ${count("warn")} warned, ${count("skip")} skipped`);
  return lines.join("\n");
}

/** All check ids, for --only and --help. */
const CHECK_IDS = defaultChecks().map((c) => c.id);

/** `--session-timeout`: seconds (`30`), or a duration as flowctl writes them (`30s`, `2m`). */
function sessionTimeoutMs(value: string): number {
  const text = value.trim();
  const seconds = /^\d+(\.\d+)?$/.test(text) ? Number(text) : parseDurationSeconds(text);
  if (seconds === undefined || !(seconds > 0)) throw new UsageError(`--session-timeout ${JSON.stringify(value)} is not a positive number of seconds (like 30, 30s or 2m)`);
  return seconds * 1000;
}

/** A whole-number option from `min` to `max`. */
function wholeNumber(flag: string, value: string, min: number, max: number): number {
  const text = value.trim();
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(n >= min && n <= max)) throw new UsageError(`--${flag} ${JSON.stringify(value)} is not a whole number from ${min} to ${max}`);
  return n;
}

/** Runs `fn`, turning the OPTION_INVALID errors flowcap's library throws before it starts anything into usage errors. */
async function asUsageErrors<T>(fn: () => T | Promise<T>, flag?: string): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof FlowcapError && error.code === "OPTION_INVALID") throw new UsageError(`${flag ? `${flag}: ` : ""}${error.message}`);
    throw error;
  }
}

const list = (value: string) =>
  value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

const command = defineCommand(
  {
    name: "check",
    summary: "run the protocol conformance suite against a capture's connector (any language), crash safety included",
    usage: "flowcap check --source <flow.yaml> [--capture <name>] [--only id,id] [--seed N] [--trials N] [--session-timeout 30s] [--snapshot-collections name,name] [--json]",
    options: {
      ...catalogOptions,
      only: { type: "string", value: "<ids>", description: `run only these checks (comma-separated), and the checks they need: ${CHECK_IDS.join(", ")}` },
      json: { type: "boolean", description: "print the results as one JSON line each" },
      "session-timeout": { type: "string", value: "<seconds>", description: "how long a session may take to do what a check waits for (seconds, or a duration like 2m)", default: "30" },
      seed: { type: "string", value: "<N>", description: `the crash check's seed, to replay its kills (default: drawn at random and reported; 0 to ${MAX_CRASH_SEED})` },
      trials: { type: "string", value: "<N>", description: "how many crash trials to run, each one to two kills (SIGKILL) and a resume", default: String(DEFAULT_CRASH_TRIALS) },
      "snapshot-collections": {
        type: "string",
        value: "<names>",
        description: "collections whose resources re-capture everything each session (comma-separated): the resume check lets them repeat documents, the crash check does not judge them",
      },
    },
  },
  async ({ values }) => {
    const only = values.only !== undefined ? list(values.only) : undefined;
    await asUsageErrors(() => selectChecks(defaultChecks(), only), "--only");
    const timeoutMs = sessionTimeoutMs(values["session-timeout"]);
    const crash = {
      trials: wholeNumber("trials", values.trials, 1, 10_000),
      ...(values.seed !== undefined ? { seed: wholeNumber("seed", values.seed, 0, MAX_CRASH_SEED) } : {}),
    };
    const { catalog, capture } = await loadSelectedCapture(values);
    const out = new Output();
    const results = await asUsageErrors(() =>
      runChecks(catalog, capture, {
        run: { logLevel: (values["log-level"]) ?? "warn" },
        sessionTimeoutMs: timeoutMs,
        crash,
        ...(only ? { only } : {}),
        ...(values["snapshot-collections"] !== undefined ? { snapshotCollections: list(values["snapshot-collections"]) } : {}),
        onResult: (r) => {
          if (!values.json) process.stderr.write(`${MARK[r.status]} ${r.id} (${r.durationMs} ms)\n`);
        },
      }),
    );
    if (values.json) for (const r of results) await out.line(JSON.stringify(r));
    else await out.line(resultsTable(results));
    return results.some((r) => r.status === "fail") ? 1 : 0;
  },
);

export const run = command.run;
export const spec = command.spec;
