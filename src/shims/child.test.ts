import { existsSync, statSync } from "node:fs";
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { LineCollector } from "../../test/helpers/inProcess.js";
import { LineTooLongError } from "../protocol/index.js";
import { createLogger } from "../runtime/index.js";
import { childSource } from "./airbyte/childSource.js";
import { ChildProcessError, childEnv, relayLine, startChild, TempDir, withTempDir, type StartChildOptions } from "./child.js";
import { childTap } from "./singer/tap.js";

function logger() {
  const lines = new LineCollector();
  const log = createLogger({ stream: new Writable({ write: (c, _e, cb) => (lines.push(c as Buffer), cb()) }), level: "debug" });
  return { log, logs: () => lines.json as { level: string; message: string; fields: Record<string, unknown> }[] };
}

const node = (script: string) => [process.execPath, "-e", script];
const python = (script: string) => ["python3", "-c", script];

async function allLines(options: Omit<StartChildOptions, "log">) {
  const { log, logs } = logger();
  const child = startChild({ ...options, log });
  const lines: string[] = [];
  const batches: number[] = [];
  for await (const batch of child.lineBatches()) {
    batches.push(batch.count);
    for (let k = 0; k < batch.count; k++) lines.push(batch.line(k).toString());
  }
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
    const inherited = await allLines({ argv, parentEnv: { PATH: process.env.PATH, DEPLOYMENT_MODE: "cloud" }, env: { MINE: "1" } });
    expect(JSON.parse(inherited.lines[0]!)).toEqual(expect.arrayContaining(["MINE", "PATH", "DEPLOYMENT_MODE"]));
    const clean = await allLines({ argv, cleanEnv: true, label: "probe", parentEnv: { PATH: process.env.PATH, SECRET_TOKEN: "nope", DEPLOYMENT_MODE: "cloud" }, env: { MINE: "1" } });
    const keys = JSON.parse(clean.lines[0]!) as string[];
    expect(keys).toEqual(expect.arrayContaining(["MINE", "PATH"]));
    expect(keys).not.toContain("SECRET_TOKEN");
    expect(clean.logs()).toContainEqual(expect.objectContaining({ level: "debug", message: "probe: holding back 2 environment variable(s) (--clean-env): DEPLOYMENT_MODE, SECRET_TOKEN" }));
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

describe("startChild", () => {
  it("hands out stdout as batches of lines, CRLF and a last line without a newline included, and exits cleanly", async () => {
    const { child, lines, logs } = await allLines({ argv: node("process.stdout.write('a\\r\\nb\\n\\nc'); console.error('to stderr')") });
    expect(lines).toEqual(["a", "b", "", "c"]);
    expect(await child.result()).toEqual({ code: 0, signal: null });
    expect(logs()).toContainEqual(expect.objectContaining({ level: "info", message: "to stderr", fields: { stream: "stderr" } }));
  });

  it("relays stderr JSON log lines at their own level with their fields", async () => {
    const { logs } = await allLines({ argv: node(`console.error(JSON.stringify({level: "WARNING", msg: "careful", n: 1}))`) });
    expect(logs()).toContainEqual(expect.objectContaining({ level: "warn", message: "careful", fields: { stream: "stderr", n: 1 } }));
  });

  it("reports a non-zero exit with its status and the tail of its stderr", async () => {
    const { child } = await allLines({
      argv: node("for (let i = 1; i <= 30; i++) console.error('line ' + i); process.exit(3)"),
      stderrTailLines: 5,
      label: "my-source read",
    });
    const error = await child.result().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChildProcessError);
    const e = error as ChildProcessError;
    expect(e.exitCode).toBe(3);
    expect(e.code).toBe("CHILD_FAILED");
    expect(e.stderrTail).toEqual(["line 26", "line 27", "line 28", "line 29", "line 30"]);
    expect(e.message).toBe("my-source read exited with code 3\nlast lines of its stderr:\nline 26\nline 27\nline 28\nline 29\nline 30");
    // What the child said about its failure leads the message.
    expect(child.failure({ code: 3, signal: null }, "Invalid API key").message).toMatch(/^Invalid API key \(my-source read exited with code 3\)\n/);
  });

  it("reports a child killed by a signal, and one that cannot be started", async () => {
    const killed = await allLines({ argv: node("process.kill(process.pid, 'SIGKILL')") });
    await expect(killed.child.result()).rejects.toThrow(/was killed by SIGKILL/);
    const missing = await allLines({ argv: ["/nonexistent/source-binary", "spec"] });
    await expect(missing.child.result()).rejects.toThrow(/^\/nonexistent\/source-binary spec could not be started: spawn \/nonexistent\/source-binary ENOENT/);
  });

  it("terminates with SIGTERM, which the child may handle, and that exit is not a failure", async () => {
    const { log, logs } = logger();
    const child = startChild({ argv: node("process.on('SIGTERM', () => { console.error('got SIGTERM'); process.exit(0) }); console.log('ready'); setInterval(() => {}, 1000)"), log });
    const batches = child.lineBatches();
    expect((await batches.next()).value?.line(0).toString()).toBe("ready");
    const exit = await child.terminate();
    expect(exit).toEqual({ code: 0, signal: null });
    expect(child.terminated).toBe(true);
    await expect(child.result()).resolves.toEqual(exit);
    expect((await batches.next()).done).toBe(true);
    expect(logs().map((l) => l.message)).toContain("got SIGTERM");
  });

  it("kills a child that ignores SIGTERM once the kill timeout passes", async () => {
    const { log, logs } = logger();
    const child = startChild({ argv: node("process.on('SIGTERM', () => {}); console.log('ready'); setInterval(() => {}, 1000)"), log, killTimeoutMs: 300 });
    await child.lineBatches().next();
    const started = Date.now();
    const exit = await child.terminate();
    expect(exit.signal).toBe("SIGKILL");
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(logs().some((l) => l.level === "warn" && /did not exit within 300 ms/.test(l.message))).toBe(true);
  });

  it("terminates when its AbortSignal aborts", async () => {
    const { log } = logger();
    const controller = new AbortController();
    const child = startChild({ argv: node("console.log('ready'); setInterval(() => {}, 1000)"), log, signal: controller.signal });
    await child.lineBatches().next();
    controller.abort();
    expect((await child.exited).signal).toBe("SIGTERM");
    await expect(child.result()).resolves.toBeDefined();
  });

  it("fails reading a line over the limit", async () => {
    const { log } = logger();
    const child = startChild({ argv: node("console.log('x'.repeat(500))"), log, maxLineBytes: 100 });
    const read = (async () => {
      for await (const _ of child.lineBatches());
    })();
    await expect(read).rejects.toBeInstanceOf(LineTooLongError);
    await child.terminate();
  });

  it("stops reading past its high-water mark, so a slow consumer blocks the child; nothing is lost", async () => {
    const { log, logs } = logger();
    // The child reports on stderr how many lines it has written, every 1,000.
    const child = startChild({
      argv: python(
        "import sys\nfor i in range(1, 2000001):\n  sys.stdout.write('%d %s\\n' % (i, 'x' * 100))\n  if i % 1000 == 0:\n    sys.stdout.flush(); sys.stderr.write('wrote %d\\n' % i); sys.stderr.flush()",
      ),
      log,
      highWaterMarkBytes: 256 * 1024,
    });
    const batches = child.lineBatches();
    const first = (await batches.next()).value!;
    expect(first.line(0).toString()).toMatch(/^1 x+$/);
    await new Promise((r) => setTimeout(r, 1500));
    const written = () => Math.max(0, ...logs().map((l) => Number(/^wrote (\d+)$/.exec(l.message)?.[1] ?? 0)));
    // Unbounded, Python writes about a million lines in that time. Blocked, it gets no further than
    // what fits in our high-water mark (~2,500 lines), the pipe and its own buffer.
    const stalledAt = written();
    expect(stalledAt).toBeLessThan(20_000);
    await new Promise((r) => setTimeout(r, 500));
    expect(written()).toBe(stalledAt);
    // Reading again, every line arrives, in order.
    let expected = 1 + first.count;
    for (let k = 0; k < first.count; k++) expect(first.line(k).toString().startsWith(`${k + 1} `)).toBe(true);
    for await (const batch of batches) {
      for (let k = 0; k < batch.count; k++) {
        const line = batch.line(k);
        const n = Number(line.toString().slice(0, line.indexOf(0x20)));
        if (n !== expected) throw new Error(`line ${n} arrived where ${expected} was expected`);
        expected++;
      }
      if (expected > 300_000) break;
    }
    expect(expected).toBeGreaterThan(300_000);
    await child.terminate();
  });
});

describe("ChildProcessHandle.consume", () => {
  it("feeds every line in order, waiting on the consumer, and completes at a clean exit", async () => {
    const { log } = logger();
    const child = startChild({ argv: python("import sys\nfor i in range(5000): print(i)"), log });
    const seen: number[] = [];
    const outcome = await child.consume((line) => {
      seen.push(Number(line.toString()));
      if (seen.length % 1000 === 0) return new Promise<void>((r) => setTimeout(r, 5));
    });
    expect(outcome).toBe("completed");
    expect(seen).toEqual(Array.from({ length: 5000 }, (_, i) => i));
  });

  it("fails with the child's exit, led by the detail read after it exited", async () => {
    const { log } = logger();
    let said: string | undefined;
    const child = startChild({ argv: node("console.log('oops'); console.error('trace'); process.exit(4)"), log, label: "tap" });
    const error = await child.consume((line) => void (said = line.toString()), { detail: () => `it said ${said}` }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChildProcessError);
    expect((error as Error).message).toBe("it said oops (tap exited with code 4)\nlast lines of its stderr:\ntrace");
  });

  it("terminates the child when the consumer throws, and rethrows", async () => {
    const { log } = logger();
    const child = startChild({ argv: node("setInterval(() => console.log('x'), 5)"), log });
    await expect(child.consume(() => {
      throw new Error("bad line");
    })).rejects.toThrow("bad line");
    expect(child.terminated).toBe(true);
    expect((await child.exited).signal).toBe("SIGTERM");
  });

  it("stops when its signal aborts: the child is terminated and the outcome is stopped", async () => {
    const { log } = logger();
    const controller = new AbortController();
    const child = startChild({ argv: node("setInterval(() => console.log('x'), 5)"), log });
    let lines = 0;
    const outcome = await child.consume(
      () => {
        if (++lines === 3) controller.abort();
      },
      { signal: controller.signal },
    );
    expect(outcome).toBe("stopped");
    expect(lines).toBeGreaterThanOrEqual(3);
    expect((await child.exited).signal).toBe("SIGTERM");
  });
});

describe("the idle timeout", () => {
  it("stops a child that writes nothing while waited for, and fails naming it and the silence", async () => {
    const { log } = logger();
    const child = startChild({ argv: node("console.log('started'); setInterval(() => {}, 60_000)"), log, label: "tap-hung sync", idleTimeoutMs: 1000, killTimeoutMs: 2000 });
    const lines: string[] = [];
    const error = (await child.consume((line) => void lines.push(line.toString())).catch((e: unknown) => e)) as ChildProcessError;
    expect(error).toMatchObject({ code: "SOURCE_IDLE", userFacing: true, data: { command: "tap-hung sync", idleTimeoutMs: 1000 } });
    expect(error.message).toMatch(/^tap-hung sync wrote nothing, on stdout or stderr, for \d+ s: it looks hung, so it was stopped\. If it is only slow, raise the idle timeout \(--idle-timeout-ms, now 1000; 0 disables it\)$/);
    expect(lines).toEqual(["started"]);
    expect((await child.exited).signal).toBe("SIGTERM");
  });

  it("takes any line for life, a log on stderr included", async () => {
    const { log } = logger();
    // Alive longer than the timeout, saying so on stderr only.
    const script = "const t = setInterval(() => console.error('still working'), 100); setTimeout(() => { clearInterval(t); console.log('done'); }, 3500)";
    const child = startChild({ argv: node(script), log, idleTimeoutMs: 2500 });
    const lines: string[] = [];
    expect(await child.consume((line) => void lines.push(line.toString()))).toBe("completed");
    expect(lines).toEqual(["done"]);
  });

  it("does not count the time the shim spends behind (waiting on Flow) as the child's silence", async () => {
    const { log } = logger();
    // The child writes one line, then nothing for 4 s; the shim holds that line until the child has exited.
    const child = startChild({ argv: node("console.log('a'); setTimeout(() => {}, 4000)"), log, idleTimeoutMs: 1500 });
    const outcome = await child.consume(() => child.exited.then(() => undefined));
    expect(outcome).toBe("completed");
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

describe("TempDir", () => {
  it("writes <name>.json with mode 0600 in a private directory, and removes it all", async () => {
    const dir = await TempDir.create();
    const file = await dir.writeJson("config", { token: "t" });
    expect(file.endsWith("/config.json")).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(dir.path).mode & 0o777).toBe(0o700);
    expect(await dir.readJson("config")).toEqual({ token: "t" });
    await expect(dir.writeJson("config", {})).rejects.toThrow(/EEXIST/);
    await dir.remove();
    expect(existsSync(dir.path)).toBe(false);
  });

  it("is removed by withTempDir even when the work fails", async () => {
    let path = "";
    await expect(
      withTempDir(async (dir) => {
        path = dir.path;
        await dir.writeJson("state", []);
        throw new Error("failed");
      }),
    ).rejects.toThrow("failed");
    expect(existsSync(path)).toBe(false);
  });
});
