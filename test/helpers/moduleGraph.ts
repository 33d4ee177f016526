import { existsSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import ts from "typescript";
import { repoRoot } from "./fixtures.js";

/**
 * The repository's modules as the compiler reads them (syntax only: fast, no type-check): what
 * each exports and what each imports from the others, for the architecture tests.
 */
export interface ModuleInfo {
  file: string;
  /** Names declared and exported here. */
  local: Set<string>;
  /** `export { a as b } from "./x.js"`: b → { file of x, a }. */
  reexports: Map<string, { from: string; name: string }>;
  /** `export * from "./x.js"`: the files. */
  stars: string[];
  /** Names imported from other modules (`*` for a namespace import, a dynamic import or a side-effect import). */
  imports: { from: string; names: string[] | "*" }[];
  /** How often each identifier occurs in the file: an export named more than once is used in its own file too. */
  mentions: Map<string, number>;
}

const SOURCE = /\.(ts|mts|mjs)$/;

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (e.name === "node_modules" || e.name === "dist" || e.name.startsWith(".")) return [];
    const file = path.join(dir, e.name);
    return e.isDirectory() ? walk(file) : SOURCE.test(e.name) && !e.name.endsWith(".d.ts") ? [file] : [];
  });
}

/** Every module of the repository that can import flowcap's: src, tests, connectors, bench, scripts. */
export function repositoryFiles(): string[] {
  return ["src", "test", "connectors", "bench", "scripts"].flatMap((d) => walk(path.join(repoRoot, d)));
}

/** Resolves a specifier to a source file: relative paths (`.js` for `.ts`), built files (`dist/src/x.js`) and the package's own entries (`flowcap/host`). */
function resolve(from: string, specifier: string): string | undefined {
  let target: string;
  if (specifier === "flowcap") target = path.join(repoRoot, "src/public/index.ts");
  else if (specifier.startsWith("flowcap/")) target = path.join(repoRoot, "src/public", `${specifier.slice("flowcap/".length)}.ts`);
  else if (specifier.startsWith(".")) target = path.resolve(path.dirname(from), specifier);
  else return undefined;
  target = target.replace(`${path.sep}dist${path.sep}src${path.sep}`, `${path.sep}src${path.sep}`);
  for (const candidate of [target, target.replace(/\.js$/, ".ts"), target.replace(/\.mjs$/, ".mts"), `${target}.ts`, path.join(target, "index.ts")]) {
    if (SOURCE.test(candidate) && existsSync(candidate)) return candidate;
  }
  return undefined;
}

export function readModule(file: string): ModuleInfo {
  const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
  const info: ModuleInfo = { file, local: new Set(), reexports: new Map(), stars: [], imports: [], mentions: new Map() };
  const exported = (node: ts.Node) => ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const from = resolve(file, node.moduleSpecifier.text);
      const clause = node.importClause;
      if (from) {
        if (!clause || (clause.namedBindings && ts.isNamespaceImport(clause.namedBindings))) info.imports.push({ from, names: "*" });
        else {
          const names = clause.namedBindings && ts.isNamedImports(clause.namedBindings) ? clause.namedBindings.elements.map((e) => (e.propertyName ?? e.name).text) : [];
          if (clause.name) names.push("default");
          info.imports.push({ from, names });
        }
      }
    } else if (ts.isExportDeclaration(node)) {
      const from = node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier) ? resolve(file, node.moduleSpecifier.text) : undefined;
      if (!node.exportClause) {
        if (from) info.stars.push(from);
      } else if (ts.isNamedExports(node.exportClause)) {
        for (const e of node.exportClause.elements) {
          if (from) info.reexports.set(e.name.text, { from, name: (e.propertyName ?? e.name).text });
          else info.local.add(e.name.text);
        }
      }
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] && ts.isStringLiteral(node.arguments[0])) {
      const from = resolve(file, node.arguments[0].text);
      if (from) info.imports.push({ from, names: "*" });
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      const from = resolve(file, node.argument.literal.text);
      const name = node.qualifier && ts.isIdentifier(node.qualifier) ? node.qualifier.text : undefined;
      if (from) info.imports.push({ from, names: name ? [name] : "*" });
    } else if (exported(node)) {
      if (ts.isVariableStatement(node)) for (const d of node.declarationList.declarations) ts.isIdentifier(d.name) && info.local.add(d.name.text);
      else if ((ts.isFunctionDeclaration(node) || ts.isClassDeclaration(node) || ts.isInterfaceDeclaration(node) || ts.isTypeAliasDeclaration(node) || ts.isEnumDeclaration(node)) && node.name) {
        info.local.add((ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.DefaultKeyword) ? "default" : node.name.text);
      }
    } else if (ts.isExportAssignment(node)) info.local.add("default");
    if (ts.isIdentifier(node)) info.mentions.set(node.text, (info.mentions.get(node.text) ?? 0) + 1);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return info;
}

/**
 * Exports of `files` that nothing uses: no module imports them (directly or through re-exports),
 * no package entry (src/public/) exports them, and their own module does not use them either (a
 * type named in an exported signature is exported so that callers can name it too). `roots` are
 * modules whose every export counts as used.
 */
export function unusedExports(modules: Map<string, ModuleInfo>, files: readonly string[], roots: readonly string[]): { file: string; name: string }[] {
  const used = new Set<string>();
  const queue: [string, string][] = [];
  const use = (file: string, name: string) => {
    const key = `${file}\u0000${name}`;
    if (used.has(key)) return;
    used.add(key);
    queue.push([file, name]);
  };
  const useAll = (file: string) => {
    const m = modules.get(file);
    if (!m) return;
    for (const n of m.local) use(file, n);
    for (const n of m.reexports.keys()) use(file, n);
    for (const star of m.stars) useAll(star);
  };
  for (const root of roots) useAll(root);
  for (const m of modules.values()) for (const i of m.imports) (i.names === "*" ? useAll(i.from) : i.names.forEach((n) => use(i.from, n)));
  while (queue.length) {
    const [file, name] = queue.pop()!;
    const m = modules.get(file);
    if (!m || m.local.has(name)) continue;
    const re = m.reexports.get(name);
    if (re) use(re.from, re.name);
    else for (const star of m.stars) use(star, name);
  }
  return files.flatMap((file) => {
    const m = modules.get(file)!;
    const usedHere = (name: string) => m.local.has(name) && (m.mentions.get(name) ?? 0) > 1;
    return [...m.local, ...m.reexports.keys()].filter((name) => !used.has(`${file}\u0000${name}`) && !usedHere(name)).map((name) => ({ file, name }));
  });
}
