import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { repoRoot } from "./fixtures.js";

export const FLOWCAP = path.join(repoRoot, "dist/src/cli/main.js");

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout lines parsed as JSON. */
  json: unknown[];
}

/** Runs the built `flowcap` binary as a user would, not on a TTY. */
export function runFlowcap(args: string[], options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [FLOWCAP, ...args], { cwd: options.cwd ?? repoRoot, env: { ...process.env, ...options.env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c));
    child.stderr.on("data", (c: Buffer) => (stderr += c));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      const json = stdout
        .split("\n")
        .filter((l) => l.trim().startsWith("{") || l.trim().startsWith("["))
        .map((l) => JSON.parse(l) as unknown);
      resolve({ code, stdout, stderr, json });
    });
  });
}

/** A fresh temporary directory holding `files`. */
export function tempTree(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(path.join(tmpdir(), "flowcap-test-"));
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  return dir;
}

const PYTHON_DIR = path.join(repoRoot, "test/fixtures/connectors/python");

/**
 * A catalog capturing the Python counter connector, optionally broken on purpose (BROKEN=<mode>),
 * with more of its environment in `env` (ACK_WINDOW=<n>).
 */
export function pythonCatalog(broken?: string, config: Record<string, unknown> = { greeting: "hi", interval_ms: 20 }, env: Record<string, string> = {}): string {
  const dir = tempTree();
  const file = path.join(dir, "flow.yaml");
  writeFileSync(
    file,
    JSON.stringify({
      captures: {
        "acmeCo/python-counter": {
          endpoint: { local: { command: ["python3", path.join(PYTHON_DIR, "counter.py")], config, env: { ...env, ...(broken ? { BROKEN: broken } : {}) } } },
          bindings: [{ resource: { name: "counter" }, target: "acmeCo/counter" }],
        },
      },
      collections: {
        "acmeCo/counter": {
          schema: { type: "object", properties: { n: { type: "integer" }, greeting: { type: "string" } }, required: ["n", "greeting"] },
          key: ["/n"],
        },
      },
    }),
  );
  return file;
}

/** A catalog capturing the SDK-built fixture that asks for explicit acknowledgements (test/fixtures/connectors/sdk-acks). */
export function sdkAcksCatalog(): string {
  const dir = tempTree();
  const file = path.join(dir, "flow.yaml");
  writeFileSync(
    file,
    JSON.stringify({
      captures: {
        "acmeCo/sdk-acks": {
          endpoint: { local: { command: ["node", path.join(repoRoot, "test/fixtures/connectors/sdk-acks/main.mjs")], config: { interval_ms: 20 } } },
          bindings: [{ resource: { name: "ticks" }, target: "acmeCo/ticks" }],
        },
      },
      collections: { "acmeCo/ticks": { schema: { type: "object", properties: { n: { type: "integer" } }, required: ["n"] }, key: ["/n"] } },
    }),
  );
  return file;
}
