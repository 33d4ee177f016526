import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { defaultFlowcapSpec, flowcapPackage } from "./flowcapPackage.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** A project with flowcap installed in node_modules, as npm records it in its hidden lockfile. */
function installedProject(resolved: string | undefined) {
  const project = mkdtempSync(path.join(tmpdir(), "flowcap-spec-"));
  const root = path.join(project, "node_modules", "flowcap");
  mkdirSync(root, { recursive: true });
  const entry = resolved === undefined ? { version: "0.1.0" } : { version: "0.1.0", resolved };
  writeFileSync(path.join(project, "node_modules", ".package-lock.json"), JSON.stringify({ lockfileVersion: 3, packages: { "node_modules/flowcap": entry } }));
  return { project, flowcap: { root, version: "0.1.0" } };
}

describe("flowcapPackage", () => {
  it("finds the flowcap package it runs from, from the sources as from dist/", async () => {
    expect(await flowcapPackage()).toEqual({ root: repoRoot, version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
  });
});

describe("defaultFlowcapSpec", () => {
  it("points at a checkout with a relative file: path (flowcap is not on a registry)", async () => {
    const spec = await defaultFlowcapSpec({ root: "/home/me/flowcap", version: "0.1.0" }, "/home/me/work/connectors/source-acme");
    expect(spec).toBe("file:../../../flowcap");
  });

  it("points at the tarball an npm install came from, relative to the new connector", async () => {
    const { project, flowcap } = installedProject("file:../flowcap-0.1.0.tgz");
    const spec = await defaultFlowcapSpec(flowcap, path.join(project, "connectors", "source-acme"));
    // The tarball sits beside the project: up from connectors/source-acme, then up from the project.
    expect(spec).toMatch(/^file:\.\.\/\.\.\/\.\.\/flowcap-0\.1\.0\.tgz$/);
  });

  it("keeps a git install's URL", async () => {
    const { project, flowcap } = installedProject("git+ssh://git@github.com/acme/flowcap.git#0123456789abcdef0123456789abcdef01234567");
    expect(await defaultFlowcapSpec(flowcap, path.join(project, "x"))).toBe("git+ssh://git@github.com/acme/flowcap.git#0123456789abcdef0123456789abcdef01234567");
  });

  it("asks for a compatible version when flowcap came from a registry, or npm did not say where from", async () => {
    const registry = installedProject("https://registry.npmjs.org/flowcap/-/flowcap-0.1.0.tgz");
    expect(await defaultFlowcapSpec(registry.flowcap, path.join(registry.project, "x"))).toBe("^0.1.0");
    const unknown = installedProject(undefined);
    expect(await defaultFlowcapSpec(unknown.flowcap, path.join(unknown.project, "x"))).toBe("^0.1.0");
  });
});
