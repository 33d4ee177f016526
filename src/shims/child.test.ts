import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { readAllBatches } from "../../test/helpers/lineBatches.js";
import { LineCollector } from "../../test/helpers/inProcess.js";
import { createLogger } from "../runtime/index.js";
import { childSource } from "./airbyte/childSource.js";
import { startProgram, type ProgramOptions } from "./child.js";
import { childEnv } from "./childEnv.js";
import { relayLine } from "./logRelay.js";
import { childTap } from "./singer/tap.js";

function logger() {
  const lines = new LineCollector();
  const log = createLogger({ stream: new Writable({ write: (c, _e, cb) => (lines.push(c as Buffer), cb()) }), level: "debug" });
  return { log, logs: () => lines.json as { level: string; message: string; fields: Record<string, unknown> }[] };
}

const node = (script: string) => [process.execPath, "-e", script];

/** Runs a program's operation to its end, with its stdout lines and its log lines. */
async function allLines(options: ProgramOptions, parentEnv?: Record<string, string | undefined>) {
  const { log, logs } = logger();
  const child = startProgram(options, [], { what: "run", log, signal: new AbortController().signal, logFields: {}, parentEnv });
  const { lines, batches } = await readAllBatches(child);
  return { child, lines, batches, logs };
}

describe("childEnv", () => {
  const parentEnv = { PATH: "/bin", HOME: "/h", LC_ALL: "C", LOG_LEVEL: "debug", AWS_SECRET_ACCESS_KEY: "s3cr3t", DEPLOYMENT_MODE: "cloud", EXTRA: "e" };

  it("inherits the whole environment by default, as Docker does, with the connector's own variables on top", () => {
    const { env, heldBack } = childEnv({ parentEnv, env: { API_BASE: "http://127.0.0.1", PATH: "/custom" } });
    expect(env).toEqual({ ...parentEnv, PATH: "/custom", API_BASE: "http://127.0.0.1" });
    expect(heldBack).toEqual([]);
  });

  it("with clean, passes only the allowlist, LC_*, the names asked for, and the connector's own variables, and names what it held back", () => {
    const { env, heldBack } = childEnv({ parentEnv, clean: true, inherit: ["EXTRA"], env: { API_BASE: "http://127.0.0.1", PATH: "/custom", DEPLOYMENT_MODE: "oss" } });
    expect(env).toEqual({ PATH: "/custom", HOME: "/h", LC_ALL: "C", LOG_LEVEL: "debug", EXTRA: "e", API_BASE: "http://127.0.0.1", DEPLOYMENT_MODE: "oss" });
    expect(heldBack).toEqual(["AWS_SECRET_ACCESS_KEY"]);
  });

  it("with clean, passes what a source's own image sets up for its runtime, and names with the prefixes asked for", () => {
    const runtime = {
      PYTHONPATH: "/app/lib",
      PYTHONHOME: "/usr/local",
      VIRTUAL_ENV: "/app/.venv",
      LD_LIBRARY_PATH: "/opt/lib",
      JAVA_HOME: "/opt/java",
      JAVA_OPTS: "-Xmx1g",
      JAVA_TOOL_OPTIONS: "-XX:+UseContainerSupport",
      NODE_PATH: "/app/node_modules",
      NODE_OPTIONS: "--max-old-space-size=2048",
      SSL_CERT_FILE: "/etc/ssl/ca.pem",
      REQUESTS_CA_BUNDLE: "/etc/ssl/ca.pem",
    };
    const secrets = { ENCRYPTION_URL: "http://x", AWS_ACCESS_KEY_ID: "AKIA", AWS_SECRET_ACCESS_KEY: "s3cr3t", GOOGLE_APPLICATION_CREDENTIALS: "/k.json", AZURE_CLIENT_SECRET: "z" };
    const { env } = childEnv({ parentEnv: { ...runtime, ...secrets, AIRBYTE_ENABLE_UNSAFE_CODE: "true", TAP_GITHUB_TOKEN: "t" }, clean: true, inheritPrefixes: ["AIRBYTE_"] });
    expect(env).toEqual({ ...runtime, AIRBYTE_ENABLE_UNSAFE_CODE: "true" });
  });

  it("is what the child sees, and cleanEnv logs the names it held back at debug", async () => {
    const argv = node("process.stdout.write(JSON.stringify(Object.keys(process.env).sort()))");
    const inherited = await allLines({ argv, env: { MINE: "1" } }, { PATH: process.env.PATH, DEPLOYMENT_MODE: "cloud" });
    expect(JSON.parse(inherited.lines[0]!)).toEqual(expect.arrayContaining(["MINE", "PATH", "DEPLOYMENT_MODE"]));
    const clean = await allLines({ argv, cleanEnv: true, label: "probe", env: { MINE: "1" } }, { PATH: process.env.PATH, SECRET_TOKEN: "nope", DEPLOYMENT_MODE: "cloud" });
    const keys = JSON.parse(clean.lines[0]!) as string[];
    expect(keys).toEqual(expect.arrayContaining(["MINE", "PATH"]));
    expect(keys).not.toContain("SECRET_TOKEN");
    expect(clean.logs()).toContainEqual(expect.objectContaining({ level: "debug", message: "probe run: holding back 2 environment variable(s) (--clean-env): DEPLOYMENT_MODE, SECRET_TOKEN" }));
    expect(JSON.stringify(clean.logs())).not.toContain("nope");
  });
});

describe("what a shim's child inherits", () => {
  /** Runs `probe` with these variables in this process's environment, restored afterwards. */
  async function withParentEnv<T>(vars: Record<string, string>, probe: () => Promise<T>): Promise<T> {
    const saved = Object.keys(vars).map((k) => [k, process.env[k]] as const);
    Object.assign(process.env, vars);
    try {
      return await probe();
    } finally {
      for (const [k, v] of saved) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  }
  const parent = { AIRBYTE_ENABLE_UNSAFE_CODE: "true", TAP_GITHUB_AUTH_TOKEN: "t", SINGER_SDK_LOG_CONFIG: "/l.yaml", VIRTUAL_ENV: "/venv", FLOWCAP_TEST_SECRET: "s" };
  const ours = (names: string[]) => names.filter((n) => n in parent).sort();
  const ctx = () => ({ log: logger().log, signal: new AbortController().signal, onConfig: async () => {} });
  const specScript = `console.log(JSON.stringify({ type: "SPEC", spec: { connectionSpecification: {}, env: Object.keys(process.env) } }))`;
  const helpScript = "console.log(Object.keys(process.env).join(' '))";

  it("an Airbyte source or a Singer tap: the whole environment (a Dockerfile ENV, a catalog's env:)", async () => {
    const spec = await withParentEnv(parent, () => childSource({ argv: node(specScript) }).spec(ctx()));
    expect(ours(spec.env as string[])).toEqual(Object.keys(parent).sort());
    const help = await withParentEnv(parent, () => childTap({ argv: [...node(helpScript), "--"] }).help(ctx()));
    expect(ours(help!.split(" "))).toEqual(Object.keys(parent).sort());
  });

  it("an Airbyte source with cleanEnv: the runtime's variables and AIRBYTE_*, not a tap's nor the parent's others", async () => {
    const spec = await withParentEnv(parent, () => childSource({ argv: node(specScript), cleanEnv: true }).spec(ctx()));
    expect(ours(spec.env as string[])).toEqual(["AIRBYTE_ENABLE_UNSAFE_CODE", "VIRTUAL_ENV"]);
  });

  it("a Singer tap with cleanEnv: the runtime's variables, TAP_* and SINGER_*, not Airbyte's nor the parent's others", async () => {
    const help = await withParentEnv(parent, () => childTap({ argv: [...node(helpScript), "--"], cleanEnv: true }).help(ctx()));
    expect(ours(help!.split(" "))).toEqual(["SINGER_SDK_LOG_CONFIG", "TAP_GITHUB_AUTH_TOKEN", "VIRTUAL_ENV"]);
  });
});

describe("startProgram", () => {
  it("relays stderr as log lines: text at info, JSON log lines at their own level with their fields", async () => {
    const { logs } = await allLines({ argv: node(`console.error('to stderr'); console.error(JSON.stringify({level: "WARNING", msg: "careful", n: 1}))`) });
    expect(logs()).toContainEqual(expect.objectContaining({ level: "info", message: "to stderr", fields: { stream: "stderr" } }));
    expect(logs()).toContainEqual(expect.objectContaining({ level: "warn", message: "careful", fields: { stream: "stderr", n: 1 } }));
  });

  it("names the operation in its failure, and tells how to raise the idle timeout", async () => {
    const { child } = await allLines({ argv: node("process.exit(3)"), label: "my-source" });
    await expect(child.result()).rejects.toThrow(/^my-source run exited with code 3$/);
    const hung = startProgram({ argv: node("setInterval(() => {}, 60_000)"), idleTimeoutMs: 500, label: "tap" }, [], { what: "sync", log: logger().log, signal: new AbortController().signal, logFields: {} });
    await expect(hung.consume(() => {})).rejects.toThrow(/^tap sync wrote nothing, .* raise the idle timeout \(--idle-timeout-ms, now 500; 0 disables it\)$/);
  });
});

describe("relayLine", () => {
  it("keeps the level of JSON log lines and logs other text at the given level", () => {
    const { log, logs } = logger();
    relayLine(log, '{"levelname":"ERROR","message":"boom","module":"x"}', { stream: "stdout" });
    relayLine(log, "plain text", { stream: "stdout" }, "debug");
    relayLine(log, '{"not":"a log"}', { stream: "stdout" });
    expect(logs()).toEqual([
      expect.objectContaining({ level: "error", message: "boom", fields: { stream: "stdout", module: "x" } }),
      expect.objectContaining({ level: "debug", message: "plain text", fields: { stream: "stdout" } }),
      expect.objectContaining({ level: "info", message: '{"not":"a log"}' }),
    ]);
  });
});
