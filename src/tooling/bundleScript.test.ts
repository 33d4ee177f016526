import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { addBundleScript } from "./bundleScript.js";

/** A repository root holding `package.json` (as given, or as JSON with two-space indent). */
function repo(pkg: unknown): string {
  const root = mkdtempSync(path.join(tmpdir(), "flowcap-bundle-script-"));
  writeFileSync(path.join(root, "package.json"), typeof pkg === "string" ? pkg : JSON.stringify(pkg, null, 2) + "\n");
  mkdirSync(path.join(root, "connectors"));
  return root;
}

const read = (root: string) => readFileSync(path.join(root, "package.json"), "utf8");

describe("addBundleScript", () => {
  it("adds bundle:<name> to a repository with one per connector, shaped like the others and placed after them", async () => {
    const root = repo({
      name: "mine",
      scripts: {
        build: "tsc",
        bundle: "npm run build && node scripts/bundle-connectors.mjs",
        "bundle:source-a": "npm run build && node scripts/bundle-connectors.mjs source-a",
        "bundle:source-b": "npm run build && node scripts/bundle-connectors.mjs source-b",
        test: "vitest run",
      },
    });
    const changed = await addBundleScript(path.join(root, "connectors", "source-new"), "source-new");
    expect(changed).toBe(path.join(root, "package.json"));
    const pkg = JSON.parse(read(root)) as { scripts: Record<string, string> };
    expect(pkg.scripts["bundle:source-new"]).toBe("npm run build && node scripts/bundle-connectors.mjs source-new");
    expect(Object.keys(pkg.scripts)).toEqual(["build", "bundle", "bundle:source-a", "bundle:source-b", "bundle:source-new", "test"]);
    expect(read(root)).toMatch(/^\{\n {2}"name": "mine",[\s\S]*\}\n$/);
  });

  it("keeps the file's indentation", async () => {
    const root = repo(JSON.stringify({ scripts: { "bundle:source-a": "bundle source-a" } }, null, "\t"));
    await addBundleScript(path.join(root, "connectors", "source-b"), "source-b");
    expect(read(root)).toBe(JSON.stringify({ scripts: { "bundle:source-a": "bundle source-a", "bundle:source-b": "bundle source-b" } }, null, "\t"));
  });

  it("leaves alone a repository without per-connector bundle scripts, one that already has the script, and a connector outside connectors/", async () => {
    const plain = repo({ name: "plain", scripts: { bundle: "flowcap bundle main.ts" } });
    const before = read(plain);
    expect(await addBundleScript(path.join(plain, "connectors", "source-x"), "source-x")).toBeUndefined();
    expect(read(plain)).toBe(before);

    const has = repo({ scripts: { "bundle:source-a": "b source-a", "bundle:source-x": "custom" } });
    expect(await addBundleScript(path.join(has, "connectors", "source-x"), "source-x")).toBeUndefined();
    expect((JSON.parse(read(has)) as { scripts: Record<string, string> }).scripts["bundle:source-x"]).toBe("custom");

    const elsewhere = repo({ scripts: { "bundle:source-a": "b source-a" } });
    expect(await addBundleScript(path.join(elsewhere, "source-x"), "source-x")).toBeUndefined();
  });
});
