// `flowcap bundle --executable` and `flowcap image`, without a Docker engine: the executables
// (a connector's, and flowcap's own CLI) run from an empty folder with no node on PATH, and the
// ENTRYPOINT of the printed Dockerfile, run as written against the CLI executable, answers spec
// from a real airbyte-to-flow patch set. Each executable copies the ~100 MB node binary, so the
// two are built once, for the whole file.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildExecutable, type ExecutableReport } from "../../src/tooling/index.js";
import { INTERNAL_SPEC, REPLAY, tmpDir, writeScenario } from "../helpers/airbyte.js";
import { spawnConnector } from "../helpers/child.js";
import { runFlowcap } from "../helpers/cli.js";
import { fixturePath, haveSharedFixtures, readFixture, repoRoot } from "../helpers/fixtures.js";

const BUILD_TIMEOUT_MS = 600_000;
let work = "";
let cliExe = "";
let connector: ExecutableReport;
/** A PATH with python3 and nothing else: no node anywhere on it. */
let pathWithoutNode = "";

beforeAll(async () => {
  work = tmpDir("executable");
  cliExe = path.join(work, "bin", "flowcap");
  const built = await runFlowcap(["bundle", "--executable", "--cli", "-o", cliExe], { timeoutMs: BUILD_TIMEOUT_MS });
  expect(built.code, built.stderr).toBe(0);
  expect(built.stdout).toMatch(/flowcap\s+\d+(\.\d+)? MiB \(node v\d+\.\d+\.\d+ \+ a [\d.]+ [KM]iB bundle\)/);
  connector = await buildExecutable({ entry: path.join(repoRoot, "connectors/source-hello-world/main.ts"), outfile: path.join(work, "bin", "source-hello-world") });

  const python = execFileSync("python3", ["-c", "import sys; print(sys.executable)"], { encoding: "utf8" }).trim();
  const onlyPython = path.join(work, "only-python");
  mkdirSync(onlyPython);
  symlinkSync(python, path.join(onlyPython, "python3"));
  pathWithoutNode = onlyPython;
}, BUILD_TIMEOUT_MS);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/** A fresh, empty working directory. */
function emptyDir(name: string): string {
  const dir = path.join(work, name);
  mkdirSync(dir);
  return dir;
}

describe("flowcap bundle --executable", () => {
  it("the PATH the executables run with has no node", () => {
    for (const dir of pathWithoutNode.split(":")) expect(existsSync(path.join(dir, "node"))).toBe(false);
    expect(readdirSync(pathWithoutNode)).toEqual(["python3"]);
  });

  it("a connector's executable answers spec from an empty folder, with no node on PATH", async () => {
    expect(connector.bytes).toBeGreaterThan(connector.bundleBytes);
    const run = spawnConnector([connector.outfile], { cwd: emptyDir("hello"), env: { PATH: pathWithoutNode } });
    run.send(INTERNAL_SPEC);
    run.end();
    const { code } = await run.exit;
    expect(code, JSON.stringify(run.logs().slice(-3))).toBe(0);
    const spec = (run.stdout.json[0] as { spec: Record<string, unknown> }).spec;
    expect(spec.protocol).toBe(3032023);
    expect(spec.configSchema).toMatchObject({ type: "object" });
  });

  it("flowcap's own CLI as an executable: --version and --help work with no node and no package.json", async () => {
    const cwd = emptyDir("cli");
    const version = execFileSync(cliExe, ["--version"], { cwd, env: { PATH: pathWithoutNode }, encoding: "utf8" });
    expect(version.trim()).toBe((JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8")) as { version: string }).version);
    const help = execFileSync(cliExe, ["airbyte", "--help"], { cwd, env: { PATH: pathWithoutNode }, encoding: "utf8" });
    expect(help).toContain("--patches DIR");
  });

  it("a bundle the executable cannot hold fails with a clear message (an entry that does not exist)", async () => {
    await expect(buildExecutable({ entry: path.join(work, "nope.ts"), outfile: path.join(work, "nope") })).rejects.toThrow(/no such entry file/);
    await expect(buildExecutable({ outfile: path.join(work, "nope") })).rejects.toThrow(/give a connector's entry file, or --cli/);
  });
});

describe.runIf(haveSharedFixtures)("flowcap image: the Dockerfile, and its ENTRYPOINT run as written", () => {
  it("puts the executable and the patch set in front of an Airbyte image, with Flow's labels and a Node 24 build stage", async () => {
    const printed = await runFlowcap(["image", "--from", "airbyte/source-facebook-marketing:0.2.84", "--patches", "connectors/source-facebook-marketing", "--name", "source-facebook-marketing"]);
    expect(printed.code, printed.stderr).toBe(0);
    const lines = printed.stdout.split("\n").filter((l) => l && !l.startsWith("#"));
    expect(lines).toEqual([
      "FROM --platform=linux/amd64 node:24-bookworm-slim AS flowcap",
      "WORKDIR /build",
      "COPY package.json package-lock.json ./",
      "RUN npm ci --ignore-scripts --no-audit --no-fund",
      "COPY . .",
      "RUN npm run build --if-present && npx flowcap bundle --executable --cli -o /out/flowcap",
      "FROM --platform=linux/amd64 airbyte/source-facebook-marketing:0.2.84",
      "COPY --from=flowcap /out/flowcap /flowcap/flowcap",
      "COPY connectors/source-facebook-marketing /flowcap/patches",
      "LABEL FLOW_RUNTIME_PROTOCOL=capture",
      "LABEL FLOW_RUNTIME_CODEC=json",
      "LABEL CONNECTOR_PROTOCOL=flow-capture",
      "LABEL dev.estuary.usage-rate=1.0",
      "LABEL org.opencontainers.image.title=source-facebook-marketing",
      'ENTRYPOINT ["/flowcap/flowcap","airbyte","--patches","/flowcap/patches","--","python","/airbyte/integration_code/main.py"]',
    ]);
  });

  it("a pip-installed tap, with a prebuilt executable: no build stage, the tap's console script as the command", async () => {
    const printed = await runFlowcap(["image", "--pip", "tap-github>=1.0", "--kind", "singer", "--executable", "bin/flowcap", "--", "tap-github"]);
    expect(printed.code, printed.stderr).toBe(0);
    expect(printed.stdout).not.toContain("AS flowcap");
    expect(printed.stdout).toContain("FROM --platform=linux/amd64 python:3.12-slim-bookworm\nRUN pip install --no-cache-dir 'tap-github>=1.0'\nCOPY bin/flowcap /flowcap/flowcap\n");
    expect(printed.stdout).toContain('ENTRYPOINT ["/flowcap/flowcap","singer","--","tap-github"]');
    const wrong = await runFlowcap(["image", "--pip", "tap-github"]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain("needs --command");
  });

  it("the ENTRYPOINT, with the executable and patch set where the image puts them, answers spec with the patch set's oauth2, with no node on PATH", async () => {
    const scenario = writeScenario(work, { spec: JSON.parse(readFixture("airbyte", "specs", "legacy-2022", "source-facebook-marketing.json")) as object }, "fb-spec.json");
    // The replay source reads its scenario from the environment, which the shim passes when told.
    const printed = await runFlowcap(["image", "--from", "airbyte/source-facebook-marketing:0.2.84", "--patches", "patches", "--shim-arg=--pass-env", "--shim-arg=REPLAY_SCENARIO", "--", ...REPLAY]);
    const entrypoint = JSON.parse(/^ENTRYPOINT (.*)$/m.exec(printed.stdout)![1]!) as string[];
    // /flowcap/flowcap and /flowcap/patches, as the image lays them out, are here the built
    // executable and the fixture folder; everything else runs as written.
    const argv = entrypoint.map((a) => (a === "/flowcap/flowcap" ? cliExe : a === "/flowcap/patches" ? fixturePath("flow", "airbyte-to-flow", "source-facebook-marketing") : a));
    expect(argv.slice(1, 7)).toEqual(["airbyte", "--patches", fixturePath("flow", "airbyte-to-flow", "source-facebook-marketing"), "--pass-env", "REPLAY_SCENARIO", "--"]);
    const run = spawnConnector(argv, { cwd: emptyDir("entrypoint"), env: { PATH: pathWithoutNode, REPLAY_SCENARIO: scenario } });
    run.send(INTERNAL_SPEC);
    run.end();
    const { code } = await run.exit;
    expect(code, JSON.stringify(run.logs().slice(-3))).toBe(0);
    const spec = (run.stdout.json[0] as { spec: Record<string, unknown> }).spec;
    expect((spec.oauth2 as { provider: string }).provider).toBe("facebook");
    expect(spec.documentationUrl).toBe("https://go.estuary.dev/OzUqlE");
  });
});
