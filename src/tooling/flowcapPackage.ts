import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { FlowcapError } from "../util/errors.js";

export interface FlowcapPackage {
  /** The package's root directory (real path: symlinks resolved, as Node loads modules). */
  root: string;
  version: string;
}

/**
 * The flowcap package this code runs from: the nearest directory above this module whose
 * package.json is flowcap's. Found by walking up, not by a fixed `../..`, because the module runs
 * from dist/src/tooling (built) and from src/tooling (tests on the sources).
 */
export async function flowcapPackage(): Promise<FlowcapPackage> {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (let dir = here; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const text = await readFile(path.join(dir, "package.json"), "utf8").catch(() => undefined);
    if (text === undefined) continue;
    const pkg = JSON.parse(text) as { name?: string; version?: string };
    if (pkg.name === "flowcap") return { root: dir, version: pkg.version ?? "0.0.0" };
  }
  throw new FlowcapError("INTERNAL", `flowcap's package.json was not found above ${here}`);
}

const toPosix = (p: string) => p.split(path.sep).join("/");

/**
 * The spec a new connector's package.json gets for its flowcap dependency: the flowcap that
 * scaffolds it, so `npm install` there gets the same code: `^<version>` is right only for a
 * flowcap installed from a registry:
 *
 * - a checkout (a git clone, or a directory that `npm install ../flowcap` linked): `file:` with
 *   the relative path from `dir` to it;
 * - an npm install: where npm installed it from (the `resolved` of the project's
 *   node_modules/.package-lock.json): a local tarball as a `file:` path relative to `dir`, a git
 *   URL as it is;
 * - anything else (a registry, a package manager without that lockfile): `^<version>`.
 */
export async function defaultFlowcapSpec(flowcap: FlowcapPackage, dir: string): Promise<string> {
  const parts = flowcap.root.split(path.sep);
  const first = parts.indexOf("node_modules");
  if (first < 0) return `file:${toPosix(path.relative(dir, flowcap.root))}`;
  const project = parts.slice(0, first).join(path.sep);
  const resolved = await installedFrom(project, parts.slice(first).join("/"));
  if (resolved?.startsWith("file:")) return `file:${toPosix(path.relative(dir, path.resolve(project, resolved.slice("file:".length))))}`;
  if (resolved && /^(git\+|git:|github:)/.test(resolved)) return resolved;
  return `^${flowcap.version}`;
}

/** Where npm installed the package at `key` (`node_modules/flowcap`) of `project` from, if it says. */
async function installedFrom(project: string, key: string): Promise<string | undefined> {
  try {
    const lock = JSON.parse(await readFile(path.join(project, "node_modules", ".package-lock.json"), "utf8")) as { packages?: Record<string, { resolved?: unknown }> };
    const resolved = lock.packages?.[key]?.resolved;
    return typeof resolved === "string" ? resolved : undefined;
  } catch {
    return undefined; // no such lockfile (another package manager, an old npm): not an error
  }
}
