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

/** A catalog file in a fresh directory: one capture of a local command, one binding, its collection keyed by /n. */
function oneBindingCatalog(capture: string, command: string[], config: Record<string, unknown>, env: Record<string, string>, resource: string, collection: string, properties: Record<string, unknown>): string {
  const file = path.join(tempTree(), "flow.yaml");
  writeFileSync(
    file,
    JSON.stringify({
      captures: { [capture]: { endpoint: { local: { command, config, env } }, bindings: [{ resource: { name: resource }, target: collection }] } },
      collections: { [collection]: { schema: { type: "object", properties, required: Object.keys(properties) }, key: ["/n"] } },
    }),
  );
  return file;
}

/**
 * A catalog capturing the Python counter connector, optionally broken on purpose (BROKEN=<mode>),
 * with more of its environment in `env` (ACK_WINDOW=<n>).
 */
export function pythonCatalog(broken?: string, config: Record<string, unknown> = { greeting: "hi", interval_ms: 20 }, env: Record<string, string> = {}): string {
  const command = ["python3", path.join(PYTHON_DIR, "counter.py")];
  const properties = { n: { type: "integer" }, greeting: { type: "string" } };
  return oneBindingCatalog("acmeCo/python-counter", command, config, { ...env, ...(broken ? { BROKEN: broken } : {}) }, "counter", "acmeCo/counter", properties);
}

/** A catalog capturing the SDK-built fixture that asks for explicit acknowledgements (test/fixtures/connectors/sdk-acks). */
export function sdkAcksCatalog(): string {
  const command = ["node", path.join(repoRoot, "test/fixtures/connectors/sdk-acks/main.mjs")];
  return oneBindingCatalog("acmeCo/sdk-acks", command, { interval_ms: 20 }, {}, "ticks", "acmeCo/ticks", { n: { type: "integer" } });
}

/**
 * A catalog capturing the scripted Python connector (test/fixtures/connectors/python/scripted.py),
 * which writes exactly what `config.session` says: one binding, `things` into acmeCo/things,
 * keyed by /id, unless `bindings` says otherwise.
 */
export function scriptedCatalog(config: Record<string, unknown>, options: { bindings?: unknown[]; schema?: Record<string, unknown>; key?: string[]; extraLocal?: Record<string, unknown> } = {}): string {
  const file = path.join(tempTree(), "flow.yaml");
  writeFileSync(
    file,
    JSON.stringify({
      captures: {
        "acmeCo/scripted": {
          endpoint: { local: { command: ["python3", path.join(PYTHON_DIR, "scripted.py")], config, ...options.extraLocal } },
          bindings: options.bindings ?? [{ resource: { name: "things" }, target: "acmeCo/things" }],
        },
      },
      collections: { "acmeCo/things": { schema: options.schema ?? { type: "object", properties: { id: { type: "integer" } }, required: ["id"] }, key: options.key ?? ["/id"] } },
    }),
  );
  return file;
}

/** A captured line and its checkpoint, for scriptedCatalog sessions. */
export const captured = (doc: Record<string, unknown> | string, binding?: number) => ({ write: `{"captured":{${binding !== undefined ? `"binding":${binding},` : ""}"doc":${typeof doc === "string" ? doc : JSON.stringify(doc)}}}` });
export const checkpoint = (updated: Record<string, unknown> | string = {}, mergePatch = true) => ({
  write: `{"checkpoint":{"state":{"updated":${typeof updated === "string" ? updated : JSON.stringify(updated)}${mergePatch ? ',"mergePatch":true' : ""}}}}`,
});
