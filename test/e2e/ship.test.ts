import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { spawnConnector } from "../helpers/child.js";
import { dockerfile } from "../helpers/dockerfile.js";
import { repoRoot } from "../helpers/fixtures.js";
import { runFlowcap, tempTree } from "../helpers/cli.js";

const INTERNAL_SPEC = { spec: { connectorType: "IMAGE", config: {} } };
const openGreetings = (rate: number) => ({
  open: {
    capture: {
      name: "acmeCo/hello",
      connectorType: "IMAGE",
      config: { rate },
      bindings: [{ resourceConfig: { name: "greetings" }, resourcePath: ["greetings"], collection: { name: "acmeCo/greetings", key: ["/count"] }, stateKey: "greetings" }],
    },
    version: "1",
    state: {},
  },
});

/** Runs the hello-world bundle the way Flow would (spec, discover, a short open), in `cwd`. */
async function exercise(argv: string[], cwd: string) {
  const spec = spawnConnector(argv, { cwd });
  spec.send(INTERNAL_SPEC);
  spec.send({ discover: { connectorType: "IMAGE", config: { rate: 2 } } });
  spec.end();
  expect((await spec.exit).code, spec.stderr.lines.join("\n")).toBe(0);
  expect(spec.stdout.json.map((m) => Object.keys(m)[0])).toEqual(["spec", "discovered"]);

  const session = spawnConnector(argv, { cwd });
  session.send(INTERNAL_SPEC);
  session.send(openGreetings(100));
  await session.stdout.until((lines) => lines.filter((l) => l.startsWith('{"checkpoint"')).length >= 3);
  session.end();
  expect((await session.exit).code, session.stderr.lines.join("\n")).toBe(0);
  expect(session.stdout.json[1]).toEqual({ opened: {} });
  expect(session.stdout.json.at(-1)).toHaveProperty("checkpoint");
}

describe("flowcap bundle", () => {
  it("makes one file that runs with plain node, with no node_modules anywhere, and reports its size", async () => {
    const out = path.join(tempTree(), "hello.mjs");
    const run = await runFlowcap(["bundle", "connectors/source-hello-world/main.ts", "-o", out]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/hello\.mjs {2}\d+(\.\d)? KiB \(gzip \d+(\.\d)? KiB\), source map/);
    expect(run.stdout).toMatch(/largest parts:\n\s+[\d.]+ KiB\s+[\d.]+%\s+ajv/);
    // Copy the bundle alone into an empty directory outside the repository.
    const alone = tempTree();
    copyFileSync(out, path.join(alone, "hello.mjs"));
    expect(readdirSync(alone)).toEqual(["hello.mjs"]);
    await exercise([process.execPath, "hello.mjs"], alone);
  });

  it("maps stack traces back to the TypeScript sources", async () => {
    const dir = tempTree();
    const out = path.join(dir, "throwing.mjs");
    const run = await runFlowcap(["bundle", "test/fixtures/connectors/throwing/main.ts", "-o", out, "--no-minify"]);
    expect(run.code, run.stderr).toBe(0);
    const child = spawnConnector([process.execPath, "--enable-source-maps", out], { cwd: dir });
    child.send({ discover: { config: {} } });
    child.end();
    expect((await child.exit).code).toBe(1);
    const last = child.logs().at(-1)!;
    const stack = (last.fields.error as { stack: string[] }).stack.join("\n");
    expect(stack).toMatch(/test\/fixtures\/connectors\/throwing\/src\/api\.ts:4:\d+/);
  });

  it("refuses an output that node would not run as an ES module", async () => {
    const run = await runFlowcap(["bundle", "connectors/source-hello-world/main.ts", "-o", "/tmp/x.js"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/the output must end in \.mjs/);
  });

  it("has a bundle script for every connector in connectors/", () => {
    const scripts = (JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
    const connectors = readdirSync(path.join(repoRoot, "connectors")).filter((n) => existsSync(path.join(repoRoot, "connectors", n, "main.ts")));
    expect(connectors.length).toBeGreaterThan(0);
    for (const name of connectors) expect(scripts[`bundle:${name}`], `package.json needs a bundle:${name} script`).toMatch(/bundle-connectors\.mjs/);
    expect(scripts.bundle).toMatch(/bundle-connectors\.mjs$/);
  });
});

/** Files under `dir` (not in node_modules or dist), relative to it. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .filter((f) => !/(^|\/)(node_modules|dist)\//.test(f));
}

describe("connectors' system packages", () => {
  it("every connector with Python files lists python3 in its apt-packages, which CI passes to the image as APT_PACKAGES", () => {
    const connectors = readdirSync(path.join(repoRoot, "connectors")).filter((n) => existsSync(path.join(repoRoot, "connectors", n, "main.ts")));
    const withPython = connectors.filter((n) => filesUnder(path.join(repoRoot, "connectors", n)).some((f) => f.endsWith(".py")));
    expect(withPython).toContain("source-singer-example");
    for (const name of withPython) {
      const file = path.join(repoRoot, "connectors", name, "apt-packages");
      expect(existsSync(file), `connectors/${name} has Python files: its image needs python3, listed in connectors/${name}/apt-packages`).toBe(true);
      const packages = readFileSync(file, "utf8").split("\n").filter(Boolean);
      expect(packages, `connectors/${name}/apt-packages: one package name per line`).toEqual(packages.filter((p) => /^[a-z0-9][a-z0-9+.-]*$/.test(p)));
      expect(packages).toContain("python3");
    }
  });
});

describe("Dockerfile", () => {
  it("has a build stage that bundles and a small runtime stage with Flow's labels, a non-root user and the connector as entrypoint", () => {
    const { instructions, stages } = dockerfile();
    expect(instructions.find((i) => i.op === "ARG" && i.args === "NODE_IMAGE=node:24-slim")).toBeTruthy();
    expect(stages.map((s) => [s.from, s.name])).toEqual([
      ["linux/amd64 ${NODE_IMAGE}", "build"],
      ["linux/amd64 ${NODE_IMAGE}", "runtime"],
    ]);
    const [build, runtime] = stages;
    expect(build!.body).toContainEqual({ op: "ARG", args: "CONNECTOR" });
    // npm ci links the `flowcap` bin the bundle step runs only if its (committed) doorway is there.
    const copyBin = build!.body.findIndex((i) => i.op === "COPY" && i.args === "bin/ bin/");
    expect(copyBin).toBeGreaterThanOrEqual(0);
    expect(copyBin).toBeLessThan(build!.body.findIndex((i) => i.op === "RUN" && i.args.startsWith("npm ci")));
    expect(build!.body.some((i) => i.op === "RUN" && /flowcap bundle "connectors\/\$\{CONNECTOR\}\/main\.ts" -o \/out\/connector\.mjs/.test(i.args))).toBe(true);
    const labels = runtime!.body.filter((i) => i.op === "LABEL").map((i) => i.args);
    expect(labels).toEqual(expect.arrayContaining(["FLOW_RUNTIME_PROTOCOL=capture", "FLOW_RUNTIME_CODEC=json", "dev.estuary.usage-rate=${USAGE_RATE}"]));
    expect(runtime!.body).toContainEqual({ op: "ARG", args: "USAGE_RATE=1.0" });
    expect(runtime!.body).toContainEqual({ op: "USER", args: "node" });
    // Only the build stage's output reaches the runtime stage.
    expect(runtime!.body.filter((i) => i.op === "COPY").map((i) => i.args)).toEqual(["--from=build /out/ /connector/"]);
    const entrypoint = runtime!.body.filter((i) => i.op === "ENTRYPOINT");
    expect(entrypoint).toHaveLength(1);
    expect(JSON.parse(entrypoint[0]!.args)).toEqual(["node", "--enable-source-maps", "/connector/connector.mjs"]);
  });

  it("its bundle step and exact entrypoint run hello-world from a clean directory", async () => {
    const { stages } = dockerfile();
    const out = tempTree();
    // The build stage's bundle step, with /out mapped to a temporary directory (WORKDIR is the repo).
    const step = stages[0]!.body.find((i) => i.op === "RUN" && i.args.includes("flowcap bundle"))!.args.replace(/\/out\//g, `${out}/`);
    const env = { ...process.env, CONNECTOR: "source-hello-world", PATH: `${path.join(repoRoot, "node_modules/.bin")}:${process.env.PATH}` };
    const built = spawnSync("sh", ["-c", step], { cwd: repoRoot, env, encoding: "utf8" });
    expect(built.status, built.stderr).toBe(0);
    // The runtime stage: /connector holds the bundle; run the ENTRYPOINT as Flow's connector-init does.
    const root = tempTree();
    mkdirSync(path.join(root, "connector"));
    for (const file of readdirSync(out)) copyFileSync(path.join(out, file), path.join(root, "connector", file));
    const entrypoint = JSON.parse(stages[1]!.body.find((i) => i.op === "ENTRYPOINT")!.args) as string[];
    const argv = entrypoint.map((a) => (a === "node" ? process.execPath : a.replace(/^\/connector\//, `${root}/connector/`)));
    await exercise(argv, path.join(root, "connector"));
  });
});

describe("flowcap bundle of a package that reads its own package.json at load (faros-airbyte-cdk)", () => {
  it("inlines that package.json, so the faros example runs from one file in an empty directory", async () => {
    const out = path.join(tempTree(), "faros.mjs");
    const run = await runFlowcap(["bundle", "connectors/source-faros-example/main.ts", "-o", out]);
    expect(run.code, run.stderr).toBe(0);
    const alone = tempTree();
    copyFileSync(out, path.join(alone, "faros.mjs"));
    const child = spawnConnector([process.execPath, "faros.mjs"], { cwd: alone });
    child.send(INTERNAL_SPEC);
    child.send({ discover: { config: { api_url: "http://127.0.0.1:9" } } });
    child.end();
    expect((await child.exit).code).toBe(1);
    expect(child.stdout.json[0]).toMatchObject({ spec: { protocol: 3032023, configSchema: { title: "Tickets API" } } });
    expect(child.logs().at(-1)!.message).toBe("endpoint config: token: is required");
  });
});
