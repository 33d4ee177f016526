import { execFile } from "node:child_process";
import { chmod, copyFile, mkdir, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { FlowcapError } from "../util/errors.js";
import { humanBytes } from "../util/format.js";
import { bundleConnector } from "./bundle.js";
import { flowcapPackage } from "./flowcapPackage.js";

const run = promisify(execFile);

/**
 * The fuse Node looks for to know it carries a single-executable-application blob (Node's
 * documentation, "Single executable applications"). Never written as one literal: an executable
 * of flowcap's own CLI embeds this code, and postject refuses a binary where the fuse appears
 * twice (a bundler would fold `"a" + "b"`, not a join).
 */
const SEA_FUSE = ["NODE_SEA_FUSE", "fce680ab2cc467b6e072b8b5df1996b2"].join("_");
/** The first Node with SEA assets (`sea.getAsset`), which the executable's loader uses. */
const MIN_NODE = [20, 12] as const;

export interface ExecutableOptions {
  /** The connector's entry point (`main.ts` or `main.js`), unless `cli`. */
  entry?: string;
  /** Build flowcap's own command line instead (`flowcap airbyte`, `flowcap singer`, ...): what an image puts in front of a wrapped source. */
  cli?: boolean;
  /** Where to write the executable. Default: `dist/<connector dir name>` beside the entry (`./flowcap` for the CLI). */
  outfile?: string;
  /**
   * The node binary the executable is made of, for its version and platform: the one running
   * this by default. It must be a Linux binary, Node 20.12 or newer; in images, a maintained LTS
   * (the Dockerfile `flowcap image` prints builds with Node 24).
   */
  node?: string;
  /** Minify the embedded bundle (default true). */
  minify?: boolean;
  /**
   * Embed an inline source map, so stack traces point into the sources (default false: it
   * triples the bundle, and the executable parses all of it at every start).
   */
  sourcemap?: boolean;
}

export interface ExecutableReport {
  outfile: string;
  bytes: number;
  /** The embedded bundle's size. */
  bundleBytes: number;
  /** The version of the Node it carries. */
  nodeVersion: string;
}

/**
 * Builds one file that runs a connector (or flowcap's CLI) with no Node installed: a Node
 * single-executable application. The connector is bundled as with `flowcap bundle` and embedded
 * as an asset; a small CommonJS loader (what Node runs first in an SEA, which cannot be an ES
 * module before Node 25) imports it from a `data:` URL. The blob is made by the target node
 * itself (`--experimental-sea-config`: its format is version-specific) and injected into a copy
 * of that node with `postject` (an npm package loaded only here). The result is a copy of the
 * node binary plus the bundle: about 100 MB, for the OS and architecture of that binary (Linux;
 * Flow runs images on linux/amd64).
 */
export async function buildExecutable(options: ExecutableOptions): Promise<ExecutableReport> {
  if (process.platform !== "linux") {
    throw new FlowcapError("CONFIG_INVALID", `bundle --executable builds Linux executables (Flow's images are linux/amd64) and runs on Linux; this is ${process.platform}: build it in a Linux container (see flowcap image)`, { userFacing: true });
  }
  const node = path.resolve(options.node ?? process.execPath);
  const nodeVersion = await versionOf(node);
  const cli = options.cli === true;
  if (cli === (options.entry !== undefined)) throw new FlowcapError("CONFIG_INVALID", "bundle --executable: give a connector's entry file, or --cli for flowcap's own command line (not both)", { userFacing: true });
  const entry = cli ? path.join((await flowcapPackage()).root, "dist/src/cli/main.js") : path.resolve(options.entry!);
  const outfile = path.resolve(options.outfile ?? (cli ? "flowcap" : path.join(path.dirname(entry), "dist", path.basename(path.dirname(entry)))));
  const injectCli = postjectCli();

  const work = await mkdtemp(path.join(tmpdir(), "flowcap-sea-"));
  try {
    const bundle = path.join(work, "connector.mjs");
    const defines: Record<string, string> = cli ? { "process.env.FLOWCAP_EMBEDDED_VERSION": JSON.stringify((await flowcapPackage()).version) } : {};
    await bundleConnector({ entry, outfile: bundle, minify: options.minify, sourcemap: options.sourcemap ?? false, embedded: { defines } });
    await writeFile(path.join(work, "loader.cjs"), LOADER);
    await writeFile(
      path.join(work, "sea-config.json"),
      JSON.stringify({ main: "loader.cjs", output: "sea.blob", disableExperimentalSEAWarning: true, useCodeCache: false, useSnapshot: false, assets: { "connector.mjs": "connector.mjs" } }),
    );
    await step(`${node} --experimental-sea-config`, () => run(node, ["--experimental-sea-config", "sea-config.json"], { cwd: work }));
    await mkdir(path.dirname(outfile), { recursive: true });
    await rm(outfile, { force: true });
    await copyFile(node, outfile);
    await chmod(outfile, 0o755);
    await step("postject", () => run(process.execPath, [injectCli, outfile, "NODE_SEA_BLOB", path.join(work, "sea.blob"), "--sentinel-fuse", SEA_FUSE], { maxBuffer: 16 * 1024 * 1024 }));
    return { outfile, bytes: (await stat(outfile)).size, bundleBytes: (await stat(bundle)).size, nodeVersion };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * The SEA's main script. `require` here is Node's built-in-only require of SEAs; the connector is
 * an ES module (top-level await), imported from a `data:` URL since it has no file. A failure to
 * load it is printed as Node would print an uncaught error, with exit code 1.
 */
const LOADER = `"use strict";
const { getAsset } = require("node:sea");
if (typeof process.setSourceMapsEnabled === "function") process.setSourceMapsEnabled(true);
const code = getAsset("connector.mjs", "utf8");
import("data:text/javascript;base64," + Buffer.from(code).toString("base64")).catch((error) => {
  process.stderr.write((error && error.stack ? error.stack : String(error)) + "\\n");
  process.exitCode = 1;
});
`;

async function versionOf(node: string): Promise<string> {
  let version: string;
  try {
    version = (await run(node, ["--version"])).stdout.trim();
  } catch (error) {
    throw new FlowcapError("CONFIG_INVALID", `bundle --executable: cannot run the node binary ${node}: ${(error as Error).message}`, { userFacing: true, cause: error });
  }
  const [major = 0, minor = 0] = version.replace(/^v/, "").split(".").map(Number);
  if (major < MIN_NODE[0] || (major === MIN_NODE[0] && minor < MIN_NODE[1])) {
    throw new FlowcapError("CONFIG_INVALID", `bundle --executable needs Node ${MIN_NODE.join(".")} or newer (single-executable assets); ${node} is ${version}`, { userFacing: true });
  }
  return version;
}

/** postject's command line, resolved lazily: it is an optional dependency, needed only here. */
function postjectCli(): string {
  try {
    return createRequire(import.meta.url).resolve("postject/dist/cli.js");
  } catch (error) {
    throw new FlowcapError("CONFIG_INVALID", "bundle --executable: postject is not installed (it injects the bundle into a copy of node): install it beside flowcap with `npm install postject`", {
      userFacing: true,
      cause: error,
    });
  }
}

async function step<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    const e = error as { stderr?: string; stdout?: string; message: string };
    const detail = `${e.stderr ?? ""}${e.stdout ?? ""}`.trim() || e.message;
    throw new FlowcapError("INTERNAL", `bundle --executable: ${what} failed: ${detail}`, { cause: error });
  }
}

/** The report, as `flowcap bundle --executable` prints it. */
export function formatExecutableReport(report: ExecutableReport, cwd = process.cwd()): string {
  const relative = path.relative(cwd, report.outfile);
  const shown = relative && !relative.startsWith("..") ? `./${relative}` : report.outfile;
  return [`${shown}  ${humanBytes(report.bytes)} (node ${report.nodeVersion} + a ${humanBytes(report.bundleBytes)} bundle)`, `runs with no Node installed, on ${process.platform}/${process.arch}: ${shown} ...`].join("\n");
}
