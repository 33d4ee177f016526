import { spawnSync } from "node:child_process";
import { accessSync, constants, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { dockerfile, dockerLabels } from "../helpers/dockerfile.js";
import { repoRoot, sharedFixtures } from "../helpers/fixtures.js";
import { tempTree } from "../helpers/cli.js";

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, unknown>;
  "working-directory"?: string;
}
interface Job {
  if?: string;
  strategy?: { matrix?: Record<string, unknown> };
  steps: Step[];
}
interface Workflow {
  on: { push?: { branches?: string[]; tags?: string[] }; pull_request?: unknown };
  jobs: Record<string, Job>;
}

const workflow = parseYaml(readFileSync(path.join(repoRoot, ".github/workflows/ci.yml"), "utf8")) as Workflow;
const step = (job: string, name: string) => {
  const found = workflow.jobs[job]!.steps.find((s) => s.name === name);
  if (!found) throw new Error(`ci.yml: no step ${JSON.stringify(name)} in job ${job}`);
  return found;
};

/** The labels Flow's runtime reads from a connector image (flow-protocol.md §9). */
const FLOW_LABELS = ["FLOW_RUNTIME_PROTOCOL", "FLOW_RUNTIME_CODEC", "dev.estuary.usage-rate"];

describe(".github/workflows/ci.yml", () => {
  it("tests on Node 20 (the oldest supported) and on the LTS line the image runs, by running .ci/run in the checkout", () => {
    const test = workflow.jobs.test!;
    // The Dockerfile's Node is a maintained LTS (Node 20 left maintenance in April 2026), and CI
    // tests it; the package keeps working on Node 20.
    const image = /^ARG NODE_IMAGE=node:(\d+)-slim$/m.exec(readFileSync(path.join(repoRoot, "Dockerfile"), "utf8"));
    expect(Number(image?.[1])).toBeGreaterThanOrEqual(24);
    expect(Number(image![1]) % 2).toBe(0); // an even, LTS, line
    expect(test.strategy?.matrix?.node).toEqual([20, Number(image![1])]);
    const pkg = JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8")) as { engines: { node: string } };
    expect(pkg.engines.node).toBe(">=20.18.1");
    const run = test.steps.filter((s) => s.run?.trim() === "./.ci/run");
    expect(run).toHaveLength(1);
    expect(run[0]!["working-directory"]).toBe("main");
    expect(test.steps.find((s) => s.uses?.startsWith("actions/checkout@") && s.with?.path === "main")).toBeTruthy();
    accessSync(path.join(repoRoot, ".ci/run"), constants.X_OK);
  });

  it("checks out the shared fixtures where the tests look for them, from a repository a variable can change, and stops without them", () => {
    const steps = workflow.jobs.test!.steps;
    const shared = steps.find((s) => s.uses?.startsWith("actions/checkout@") && s.with?.path === "shared");
    expect(shared).toBeTruthy();
    // The test job works in main/, and the tests read ../shared/fixtures: the checkout's path must agree.
    expect(path.relative(repoRoot, sharedFixtures)).toBe(path.join("..", "shared", "fixtures"));
    expect(String(shared!.with!.repository)).toMatch(/^\$\{\{ vars\.FLOWCAP_SHARED_REPO \|\| format\('\{0\}\/flowcap-shared', github\.repository_owner\) \}\}$/);
    const check = step("test", "Check the shared fixtures are there");
    expect(check.run).toContain("test -f shared/fixtures/MANIFEST.md");
    expect(steps.indexOf(check)).toBeLessThan(steps.findIndex((s) => s.run?.trim() === "./.ci/run"));
    // Nothing may let the job pass without them: no step allowed to fail, and CI (which GitHub
    // sets, and which makes the fixture tests fail rather than skip) not overridden.
    expect(JSON.stringify(workflow.jobs.test)).not.toMatch(/continue-on-error|"CI":/);
  });

  it("checks the labels Flow reads with the values the Dockerfile sets", () => {
    const labels = dockerLabels();
    for (const name of FLOW_LABELS) expect(labels, `the Dockerfile sets ${name}`).toHaveProperty([name]);
    const check = step("image", "Check the labels Flow reads").run!;
    const checked = new Map<string, string>();
    for (const m of check.matchAll(/\.(?:([A-Za-z_][\w]*)|\["([^"]+)"\])\s*==\s*"([^"]*)"/g)) checked.set(m[1] ?? m[2]!, m[3]!);
    for (const [name, value] of checked) expect(labels[name], `ci.yml checks ${name} == ${value}`).toBe(value);
    expect([...checked.keys()].sort()).toEqual(["FLOW_RUNTIME_CODEC", "FLOW_RUNTIME_PROTOCOL"]);
    // The usage rate is a build argument; CI checks it is a positive number, as the default is.
    expect(check).toContain('(.["dev.estuary.usage-rate"] | tonumber) > 0');
    expect(labels["dev.estuary.usage-rate"]).toBe("${USAGE_RATE}");
    const arg = dockerfile().stages.at(-1)!.body.find((i) => i.op === "ARG" && i.args.startsWith("USAGE_RATE="))!;
    expect(Number(arg.args.split("=")[1])).toBeGreaterThan(0);
  });

  it("builds each image with its connector's apt-packages as one APT_PACKAGES argument", () => {
    expect(dockerfile().stages.at(-1)!.body).toContainEqual({ op: "ARG", args: 'APT_PACKAGES=""' });
    // Run the Build step's script with a docker that records its arguments.
    const bin = tempTree();
    const argsFile = path.join(bin, "args.json");
    writeFileSync(path.join(bin, "docker"), `#!/usr/bin/env node\nrequire("node:fs").writeFileSync(${JSON.stringify(argsFile)}, JSON.stringify(process.argv.slice(2)));\n`, { mode: 0o755 });
    const build = (connector: string, cwd = repoRoot) => {
      const script = step("image", "Build").run!.replaceAll("${{ matrix.connector }}", connector);
      const env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, IMAGE: `ghcr.io/acme/${connector}`, GITHUB_SHA: "0123456789abcdef" };
      const run = spawnSync("bash", ["-e", "-c", script], { cwd, env, encoding: "utf8" });
      expect(run.status, run.stderr).toBe(0);
      return JSON.parse(readFileSync(argsFile, "utf8")) as string[];
    };
    const singer = build("source-singer-example");
    expect(singer).toEqual(["build", "--platform", "linux/amd64", "--build-arg", "CONNECTOR=source-singer-example", "--build-arg", "APT_PACKAGES=python3 ", "-t", "ghcr.io/acme/source-singer-example:0123456789ab", "."]);
    expect(build("source-hello-world").filter((a) => a.startsWith("APT_PACKAGES="))).toEqual([]);
    // Several packages stay one argument.
    const checkout = tempTree();
    mkdirSync(path.join(checkout, "connectors/source-x"), { recursive: true });
    writeFileSync(path.join(checkout, "connectors/source-x/apt-packages"), "python3\nca-certificates\n");
    expect(build("source-x", checkout)).toContain("APT_PACKAGES=python3 ca-certificates ");
  });

  it("publishes images only on v* tags", () => {
    expect(workflow.on.push?.tags).toEqual(["v*"]);
    const publishing = Object.entries(workflow.jobs).flatMap(([job, j]) => j.steps.filter((s) => /docker (push|login)/.test(s.run ?? "")).map((s) => ({ job, j, s })));
    expect(publishing.length).toBeGreaterThan(0);
    for (const { job, j, s } of publishing) {
      expect(`${j.if ?? ""} ${s.if ?? ""}`, `${job}: ${s.name}`).toContain("startsWith(github.ref, 'refs/tags/v')");
    }
  });
});
