import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FLOWCAP, tempTree } from "../helpers/cli.js";

/**
 * A connector or wrapped source dies with flowcap however flowcap ends (SIGINT, SIGTERM, and
 * SIGKILL, which flowcap cannot catch), and a directory of secrets it wrote for a source does
 * not outlive the next start. Each child writes its pid to a marker file; the test waits for
 * it, signals flowcap, and then waits (polling, with a generous bound) for that pid to be gone.
 */

/**
 * An Airbyte source that answers `spec` and then, on `discover`, records its pid and the
 * config file it was given and sleeps ten minutes (or, with QUICK set, answers at once).
 */
const SOURCE = `
import json, os, sys, time
args = sys.argv[1:]
if args[0] == "spec":
    print(json.dumps({"type": "SPEC", "spec": {"connectionSpecification": {"type": "object", "properties": {"token": {"type": "string", "airbyte_secret": True}}}}}))
    sys.exit(0)
config = args[args.index("--config") + 1]
if os.environ.get("QUICK"):
    print(json.dumps({"type": "CATALOG", "catalog": {"streams": []}}))
    sys.exit(0)
marker = os.environ["MARKER"]
with open(marker + ".tmp", "w") as f:
    json.dump({"pid": os.getpid(), "config": config}, f)
os.rename(marker + ".tmp", marker)
time.sleep(600)
`;

const DISCOVER = JSON.stringify({ discover: { connectorType: "LOCAL", config: { token: "s3cr3t-token" } } }) + "\n";

/** True while `pid` runs (a zombie, killed but not yet reaped by whoever inherited it, is gone). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

/** Polls `condition` until it holds or `boundMs` passes; returns whether it held. */
async function eventually(condition: () => boolean, boundMs: number): Promise<boolean> {
  for (const deadline = Date.now() + boundMs; Date.now() < deadline; ) {
    if (condition()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return condition();
}

function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => child.once("close", (code, signal) => resolve({ code, signal })));
}

/** Starts flowcap with `args`, stdin kept open (Flow's runtime never closes it mid-request). */
function startFlowcap(args: string[], cwd: string, env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [FLOWCAP, ...args], { cwd, env: { ...process.env, ...env }, stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (c: Buffer) => (stderr += c));
  child.stdout!.resume();
  child.stdin!.on("error", () => {});
  return { child, exited: exitOf(child), stderr: () => stderr };
}

/** Waits for the marker a child writes once it runs, and reads it. */
async function markerOf(file: string, flowcap: { stderr(): string }): Promise<{ pid: number; config?: string }> {
  expect(await eventually(() => existsSync(file), 60_000), `the child never started; flowcap said:\n${flowcap.stderr()}`).toBe(true);
  return JSON.parse(readFileSync(file, "utf8")) as { pid: number; config?: string };
}

/** `flowcap airbyte` wrapping the sleeping source, mid-discover: flowcap, and the source's pid and config file once it runs. */
async function discoveringSource() {
  const dir = tempTree({ "source.py": SOURCE });
  const marker = path.join(dir, "marker");
  const flowcap = startFlowcap(["airbyte", "--", "python3", path.join(dir, "source.py")], dir, { MARKER: marker });
  flowcap.child.stdin!.write(DISCOVER);
  const { pid, config } = await markerOf(marker, flowcap);
  pidsLeft.push(pid);
  if (config === undefined) throw new Error("the source's marker names no config file");
  return { dir, flowcap, pid, config };
}

// Whatever a failing test leaves running is killed here.
const pidsLeft: number[] = [];
afterAll(() => {
  for (const pid of pidsLeft) if (running(pid)) process.kill(pid, "SIGKILL");
});

describe.runIf(process.platform === "linux")("no orphans: a wrapped source dies with flowcap airbyte", () => {
  for (const signal of ["SIGKILL", "SIGINT", "SIGTERM"] as const) {
    it(`when flowcap is sent ${signal}, mid-discover, the source is gone${signal === "SIGKILL" ? "" : " and so is the directory holding its config"}`, async () => {
      const { flowcap, pid, config } = await discoveringSource();
      expect(running(pid)).toBe(true);
      // The config, secret included, is in a directory named for its owner.
      expect(path.basename(path.dirname(config))).toMatch(new RegExp(`^flowcap-${flowcap.child.pid}-\\w{6}$`));
      expect(readFileSync(config, "utf8")).toContain("s3cr3t-token");

      flowcap.child.kill(signal);
      const exit = await flowcap.exited;
      expect(exit.code !== 0 || exit.signal !== null).toBe(true);
      expect(await eventually(() => !running(pid), 30_000), `the source (pid ${pid}) outlived flowcap's ${signal}`).toBe(true);
      if (signal !== "SIGKILL") expect(existsSync(path.dirname(config))).toBe(false);
      flowcap.child.stdin!.destroy();
    });
  }

  it("the secrets of a flowcap that was killed are removed at the next start", async () => {
    const { dir, flowcap: killed, config } = await discoveringSource();
    killed.child.kill("SIGKILL");
    await killed.exited;
    // SIGKILL leaves no chance to clean up: the directory is there...
    expect(existsSync(config)).toBe(true);
    // ... until the next flowcap writes a file for a source.
    const next = startFlowcap(["airbyte", "--", "python3", path.join(dir, "source.py")], dir, { QUICK: "1" });
    next.child.stdin!.end(DISCOVER);
    const exit = await next.exited;
    expect(exit.code, next.stderr()).toBe(0);
    expect(existsSync(path.dirname(config))).toBe(false);
  });
});

describe.runIf(process.platform === "linux")("no orphans: a connector dies with the host harness (flowcap preview)", () => {
  /** A connector that records its pid and then sleeps, answering nothing and ignoring its stdin. */
  function catalog(): { dir: string; marker: string } {
    const dir = tempTree();
    const marker = path.join(dir, "marker");
    const command = ["sh", "-c", `echo "{\\"pid\\": $$}" > '${marker}.tmp' && mv '${marker}.tmp' '${marker}' && exec sleep 600`];
    writeFileSync(
      path.join(dir, "flow.yaml"),
      JSON.stringify({
        captures: { "acmeCo/sleeper": { endpoint: { local: { command, config: {} } }, bindings: [{ resource: { name: "x" }, target: "acmeCo/x" }] } },
        collections: { "acmeCo/x": { schema: { type: "object" }, key: ["/id"] } },
      }),
    );
    return { dir, marker };
  }

  for (const signal of ["SIGKILL", "SIGINT", "SIGTERM"] as const) {
    it(`when flowcap preview is sent ${signal}, the connector is gone`, async () => {
      const { dir, marker } = catalog();
      const flowcap = startFlowcap(["preview", "--source", "flow.yaml"], dir);
      const { pid } = await markerOf(marker, flowcap);
      pidsLeft.push(pid);
      expect(running(pid)).toBe(true);
      flowcap.child.kill(signal);
      await flowcap.exited;
      // On SIGINT, preview stops the connector as Flow would: stdin closed, then SIGTERM after its grace period.
      expect(await eventually(() => !running(pid), 60_000), `the connector (pid ${pid}) outlived flowcap's ${signal}`).toBe(true);
    });
  }
});
