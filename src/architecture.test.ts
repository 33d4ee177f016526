import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { readModule, repositoryFiles, unusedExports } from "../test/helpers/moduleGraph.js";

/**
 * The layers of STYLE.md, as a test: every import in src/ (tests aside) runs down the layers.
 * Read `a: [b, c]` as "a may import b and c". util ← protocol ← runtime ← sdk ← oauth ← shims;
 * process (running child programs) sits on protocol and util, under the shims and the host;
 * host builds on process, protocol and util, tooling on protocol and util (host cannot lean on
 * flowcap's own runtime);
 * testing (the kit, and the conformance suite composed from host's and OAuth's checks) sits on
 * host, oauth and the core; public/ (the package entries) re-exports any layer but the CLI; cli
 * sits on top and nothing imports it.
 */
const LAYERS: Record<string, readonly string[]> = {
  util: [],
  protocol: ["util"],
  process: ["protocol", "util"],
  runtime: ["protocol", "util"],
  sdk: ["runtime", "protocol", "util"],
  oauth: ["sdk", "runtime", "protocol", "util"],
  shims: ["oauth", "sdk", "runtime", "process", "protocol", "util"],
  host: ["process", "protocol", "util"],
  tooling: ["protocol", "util"],
  testing: ["host", "oauth", "sdk", "runtime", "process", "protocol", "util"],
  public: ["testing", "host", "shims", "oauth", "sdk", "runtime", "process", "protocol", "util"],
  cli: ["public", "testing", "tooling", "host", "shims", "oauth", "sdk", "runtime", "process", "protocol", "util"],
};

const src = path.dirname(fileURLToPath(import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const file = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(file);
    return e.name.endsWith(".ts") && !/\.test(-d)?\.ts$/.test(e.name) ? [file] : [];
  });
}

/** The module specifiers a file imports or re-exports, static or dynamic, with their line numbers. */
export function importsOf(file: string): { specifier: string; line: number }[] {
  const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
  const found: { specifier: string; line: number }[] = [];
  const add = (node: ts.Node, specifier: ts.Expression | undefined) => {
    if (specifier && ts.isStringLiteral(specifier)) found.push({ specifier: specifier.text, line: source.getLineAndCharacterOfPosition(node.getStart()).line + 1 });
  };
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) add(node, node.moduleSpecifier);
    else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) add(node, node.arguments[0]);
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(node, node.argument.literal as ts.Expression);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** The layer of a file under src/ (its top folder), and for shims the protocol it maps (airbyte, singer). */
function layerOf(file: string): { layer: string; shim?: string } {
  const [top, sub] = path.relative(src, file).split(path.sep);
  return { layer: top!, ...(top === "shims" && (sub === "airbyte" || sub === "singer") ? { shim: sub } : {}) };
}

describe("the layers of src/", () => {
  it("every folder of src/ is a known layer", () => {
    const folders = readdirSync(src, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    expect(folders.filter((f) => !(f in LAYERS))).toEqual([]);
  });

  it("every import runs down the layers, and the two shims never import each other", () => {
    const violations: string[] = [];
    for (const file of sourceFiles(src)) {
      const from = layerOf(file);
      for (const { specifier, line } of importsOf(file)) {
        if (!specifier.startsWith(".")) continue;
        const target = path.resolve(path.dirname(file), specifier);
        if (!target.startsWith(src + path.sep)) {
          violations.push(`${path.relative(src, file)}:${line} imports ${specifier}, outside src/`);
          continue;
        }
        const to = layerOf(target);
        const where = `${path.relative(src, file)}:${line} imports ${path.relative(src, target)}`;
        if (to.layer !== from.layer && !LAYERS[from.layer]?.includes(to.layer)) violations.push(`${where}: ${from.layer} may import ${LAYERS[from.layer]?.join(", ") || "nothing of src/"}`);
        if (from.shim && to.shim && from.shim !== to.shim) violations.push(`${where}: the ${from.shim} shim may not import the ${to.shim} shim (shared code goes in shims/)`);
      }
    }
    expect(violations).toEqual([]);
  });

  it("the check itself catches an import up the layers", () => {
    const allowed = (from: string, to: string) => LAYERS[from]!.includes(to);
    expect(allowed("host", "sdk")).toBe(false);
    expect(allowed("runtime", "sdk")).toBe(false);
    expect(Object.values(LAYERS).some((may) => may.includes("cli"))).toBe(false);
    const here = importsOf(fileURLToPath(import.meta.url)).map((i) => i.specifier);
    expect(here).toEqual(expect.arrayContaining(["node:fs", "typescript", "vitest"]));
  });
});

describe("the exports of src/", () => {
  it("are all used: imported by another module (a test counts), exported by a package entry, or used in their own module", () => {
    const files = repositoryFiles();
    const modules = new Map(files.map((f) => [f, readModule(f)]));
    const isTest = (f: string) => /\.test(-d)?\.ts$/.test(f);
    const roots = files.filter((f) => path.dirname(f) === path.join(src, "public") && !isTest(f));
    // Generated code exports what the schema has, used or not.
    const checked = files.filter((f) => f.startsWith(src + path.sep) && !isTest(f) && !roots.includes(f) && !f.includes(`${path.sep}generated${path.sep}`));
    const unused = unusedExports(modules, checked, roots).map((u) => `${path.relative(src, u.file)}: ${u.name}`);
    expect(unused, "delete what nothing uses, or stop exporting what only its own module uses").toEqual([]);
  }, 180_000);

  it("the check itself finds an export nothing uses, and follows re-exports", () => {
    const a = "/virtual/a.ts";
    const index = "/virtual/index.ts";
    const user = "/virtual/user.ts";
    const modules = new Map([
      [a, { file: a, local: new Set(["used", "unused", "selfUsed"]), reexports: new Map(), stars: [], imports: [], mentions: new Map([["selfUsed", 2]]) }],
      [index, { file: index, local: new Set<string>(), reexports: new Map([["used", { from: a, name: "used" }], ["dangling", { from: a, name: "unused" }]]), stars: [], imports: [], mentions: new Map() }],
      [user, { file: user, local: new Set<string>(), reexports: new Map(), stars: [], imports: [{ from: index, names: ["used"] }], mentions: new Map() }],
    ]);
    expect(unusedExports(modules, [a, index], [])).toEqual([
      { file: a, name: "unused" },
      { file: index, name: "dangling" },
    ]);
  });
});

