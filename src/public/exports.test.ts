import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";
import ts from "typescript";
import { describe, expect, it } from "vitest";

/**
 * The package's public surface is deliberate: each entry point (package.json "exports") is a file
 * here that names what it exports, and `<entry>.exports.txt` beside it is the reviewed list of
 * those names, values by name and types as `type Name`. An export that appears or disappears
 * without the list saying so fails here: add it to the list (a public API is a promise to keep)
 * or stop exporting it (tests reach internals through their own modules, not the entries).
 */
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
const entries = readdirSync(here)
  .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"))
  .map((f) => f.slice(0, -3));

function listed(entry: string): string[] {
  return readFileSync(path.join(here, `${entry}.exports.txt`), "utf8")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
}

/** Every name each entry exports, types included, as the compiler sees them. */
function compiledExports(): Map<string, string[]> {
  const config = ts.getParsedCommandLineOfConfigFile(path.join(root, "tsconfig.json"), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} })!;
  const files = entries.map((e) => path.join(here, `${e}.ts`));
  const program = ts.createProgram(files, { ...config.options, noEmit: true });
  const checker = program.getTypeChecker();
  return new Map(entries.map((e, i) => [e, checker.getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(files[i]!)!)!).map((s) => s.name)]));
}

describe("the public entry points", () => {
  it("are exactly package.json's exports", () => {
    const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { exports: Record<string, string | { default: string; types: string }> };
    const targets = Object.entries(pkg.exports)
      .filter(([name]) => name !== "./package.json")
      .map(([name, target]) => [name, typeof target === "string" ? target : target.default] as const);
    expect(Object.fromEntries(targets)).toEqual(Object.fromEntries(entries.map((e) => [e === "index" ? "." : `./${e}`, `./dist/src/public/${e}.js`])));
  });

  it("export what their reviewed lists say, no more and no less", async () => {
    const compiled = compiledExports();
    for (const entry of entries) {
      const values = new Set(Object.keys((await import(pathToFileURL(path.join(here, `${entry}.ts`)).href)) as object));
      const actual = compiled
        .get(entry)!
        .map((name) => (values.has(name) ? name : `type ${name}`))
        .sort();
      const expected = [...listed(entry)].sort();
      const added = actual.filter((n) => !expected.includes(n));
      const removed = expected.filter((n) => !actual.includes(n));
      expect({ entry, added, removed }, `src/public/${entry}.ts and ${entry}.exports.txt disagree: list what is meant to be public, stop exporting the rest`).toEqual({ entry, added: [], removed: [] });
    }
  }, 120_000);

  it("the root entry pulls in no child process code: its whole import graph, as bundled, never imports node:child_process", async () => {
    const result = await build({ entryPoints: [path.join(here, "index.ts")], bundle: true, platform: "node", format: "esm", write: false, metafile: true, logLevel: "silent", outfile: "root.js", absWorkingDir: root });
    const importers = new Map<string, string>();
    for (const [file, input] of Object.entries(result.metafile.inputs)) for (const i of input.imports) if (!importers.has(i.path)) importers.set(i.path, file);
    const chain = (target: string): string[] => {
      const path: string[] = [target];
      for (let at = importers.get(target); at && !path.includes(at); at = importers.get(at)) path.push(at);
      return path.reverse();
    };
    const childProcess = [...importers.keys()].filter((p) => p === "child_process" || p === "node:child_process");
    expect(childProcess.map((p) => chain(p).join(" -> ")), "the root entry must stay loadable where processes cannot be spawned: keep process code behind flowcap/airbyte, flowcap/singer or flowcap/host").toEqual([]);
    // The check sees what the bundle holds: the SDK and the runtime are in it.
    expect(Object.keys(result.metafile.inputs).some((f) => f.endsWith("src/runtime/serve.ts"))).toBe(true);
  }, 180_000);
});
