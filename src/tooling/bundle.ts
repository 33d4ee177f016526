import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { gzipSync } from "node:zlib";
import type { Metafile, Plugin } from "esbuild";
import { FlowcapError } from "../util/errors.js";
import { humanBytes } from "../util/format.js";

export interface BundleOptions {
  /** The connector's entry point (`main.ts` or `main.js`). */
  entry: string;
  /** Where to write the bundle; an ES module, so it must end in `.mjs`. Default `dist/<connector dir name>.mjs` beside the entry. */
  outfile?: string;
  /** Minify whitespace and syntax (names are kept, for readable stack traces). Default true. */
  minify?: boolean;
  /** Write `<outfile>.map` and make Node use it for stack traces. Default true. */
  sourcemap?: boolean;
  /**
   * @internal For `buildExecutable`: the module is loaded from a `data:` URL inside a
   * single-executable application, so `require` and `__filename` come from the executable's path
   * (not `import.meta.url`), the source map is inline, and `defines` replace expressions.
   */
  embedded?: { defines?: Record<string, string> };
}

export interface BundleReport {
  outfile: string;
  bytes: number;
  gzipBytes: number;
  mapFile?: string;
  mapBytes?: number;
  /** What the bundle is made of, largest first: packages (`ajv`), or the connector's own files. */
  parts: { name: string; bytes: number }[];
  warnings: string[];
}

/**
 * esbuild, loaded only when a bundle is made: it is a large native package, and nothing else in
 * flowcap (the CLI's other commands, the library) should fail or slow down without it. flowcap
 * depends on it, so it is missing only from an install that left it out on purpose.
 */
async function loadEsbuild(): Promise<typeof import("esbuild")> {
  try {
    return await import("esbuild");
  } catch (error) {
    const missing = (error as { code?: string }).code === "ERR_MODULE_NOT_FOUND" && /'esbuild'/.test(String((error as Error).message));
    if (!missing) throw error;
    throw new FlowcapError("CONFIG_INVALID", "bundle: esbuild is not installed (flowcap bundle runs it): install it beside flowcap with `npm install esbuild`", {
      userFacing: true,
      cause: error,
    });
  }
}

/**
 * Code at the top of every bundle: ES modules have no `require` or `__dirname`, which bundled
 * CommonJS packages (ajv, among others) use.
 */
const BANNER = [
  "import { createRequire as __flowcapRequire } from 'node:module';",
  "import { fileURLToPath as __flowcapPath } from 'node:url';",
  "const require = __flowcapRequire(import.meta.url);",
  "const __filename = __flowcapPath(import.meta.url);",
  "const __dirname = __filename.slice(0, __filename.lastIndexOf('/'));",
].join("\n");

/** The banner of a module embedded in a single executable, where `import.meta.url` is a `data:` URL. */
const EMBEDDED_BANNER = [
  "import { createRequire as __flowcapRequire } from 'node:module';",
  "const require = __flowcapRequire(process.execPath);",
  "const __filename = process.execPath;",
  "const __dirname = __filename.slice(0, __filename.lastIndexOf('/'));",
].join("\n");

/**
 * Packages only `flowcap bundle` itself loads (lazily, with a clear error when absent): a bundle
 * never carries them (esbuild is a native binary, postject a large WebAssembly module).
 */
const BUNDLING_TOOLS = ["esbuild", "postject"];

/**
 * Some packages read their own package.json at load time
 * (`fs.readFileSync(path.join(PACKAGE_ROOT, 'package.json'))`, faros-airbyte-cdk among them);
 * in a one-file bundle there is no such file. This esbuild plugin finds those reads in
 * node_modules and replaces them with the package.json's text, inlined.
 */
const SELF_READ = /\b[\w$]+(?:\.default)?\.readFileSync\(\s*[\w$]+(?:\.default)?\.(?:join|resolve)\(\s*[\w$.]+\s*,\s*(['"])package\.json\1\s*\)\s*(?:,\s*(?:(['"])utf-?8\2|\{\s*encoding:\s*(['"])utf-?8\3\s*\})\s*)?\)/g;

async function packageJsonAbove(file: string): Promise<string | undefined> {
  for (let dir = path.dirname(file); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const text = await readFile(path.join(dir, "package.json"), "utf8").catch(() => undefined);
    if (text !== undefined) return text;
  }
  return undefined;
}

const inlinePackageJsonReads: Plugin = {
  name: "flowcap-inline-package-json",
  setup(build) {
    build.onLoad({ filter: /[\\/]node_modules[\\/].*\.c?js$/ }, async (args) => {
      const text = await readFile(args.path, "utf8");
      if (!text.includes("package.json") || !text.includes("readFileSync")) return undefined;
      SELF_READ.lastIndex = 0;
      if (!SELF_READ.test(text)) return undefined;
      const pkg = await packageJsonAbove(args.path);
      if (pkg === undefined) return undefined;
      const withEncoding = (match: string) => /utf-?8/.test(match.slice(match.indexOf("package.json")));
      const contents = text.replace(SELF_READ, (match) => (withEncoding(match) ? JSON.stringify(pkg) : `Buffer.from(${JSON.stringify(pkg)})`));
      return { contents, loader: "js", resolveDir: path.dirname(args.path) };
    });
  },
};

/**
 * Bundles a connector into one self-contained ES module that runs with plain `node` and no
 * `node_modules` (esbuild, Node 20 target), and reports its size and what it is made of. The
 * external source map (`<outfile>.map`) maps stack traces back to the sources when node runs
 * with `--enable-source-maps`, as the Dockerfile's entrypoint does. (Enabling them from inside
 * the bundle would be too late: Node reads a file's source map when it loads the file.)
 */
export async function bundleConnector(options: BundleOptions): Promise<BundleReport> {
  const entry = path.resolve(options.entry);
  try {
    await stat(entry);
  } catch {
    throw new FlowcapError("CONFIG_INVALID", `bundle: no such entry file ${options.entry}`, { userFacing: true });
  }
  const outfile = path.resolve(options.outfile ?? path.join(path.dirname(entry), "dist", `${path.basename(path.dirname(entry))}.mjs`));
  if (!outfile.endsWith(".mjs")) {
    throw new FlowcapError("CONFIG_INVALID", `bundle: the output must end in .mjs (it is an ES module, and node runs .mjs as one without a package.json): ${options.outfile}`, {
      userFacing: true,
    });
  }
  const sourcemap = options.sourcemap ?? true;
  const embedded = options.embedded;
  const minify = options.minify ?? true;
  const { build } = await loadEsbuild();
  let result;
  try {
    result = await build({
      entryPoints: [entry],
      outfile,
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      minifyWhitespace: minify,
      minifySyntax: minify,
      keepNames: true,
      sourcemap: sourcemap ? (embedded ? "inline" : "linked") : false,
      sourcesContent: true,
      metafile: true,
      legalComments: "external",
      banner: { js: embedded ? EMBEDDED_BANNER : BANNER },
      define: embedded?.defines ?? {},
      logLevel: "silent",
      // Optional native speed-ups some packages try to load; they fall back without them.
      external: ["bufferutil", "utf-8-validate", "fsevents", ...BUNDLING_TOOLS],
      plugins: [inlinePackageJsonReads],
    });
  } catch (error) {
    const errors = (error as { errors?: { text: string; location?: { file: string; line: number } | null }[] }).errors ?? [];
    const detail = errors.map((e) => (e.location ? `${e.location.file}:${e.location.line}: ${e.text}` : e.text)).join("\n  ");
    throw new FlowcapError("CONFIG_INVALID", `bundle: esbuild could not bundle ${options.entry}${detail ? `:\n  ${detail}` : ""}`, { userFacing: true, cause: error });
  }
  const code = await readFile(outfile);
  const report: BundleReport = {
    outfile,
    bytes: code.length,
    gzipBytes: gzipSync(code).length,
    parts: parts(result.metafile, outfile),
    warnings: result.warnings.map((w) => (w.location ? `${w.location.file}:${w.location.line}: ${w.text}` : w.text)),
  };
  if (sourcemap && !embedded) {
    report.mapFile = `${outfile}.map`;
    report.mapBytes = (await stat(report.mapFile)).size;
  }
  return report;
}

/** Bytes in the output per package (or per own source file), largest first. */
function parts(metafile: Metafile, outfile: string): { name: string; bytes: number }[] {
  const output = Object.entries(metafile.outputs).find(([file]) => path.resolve(file) === outfile)?.[1];
  const totals = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(output?.inputs ?? {})) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
    const name = match ? match[1]! : input;
    totals.set(name, (totals.get(name) ?? 0) + bytesInOutput);
  }
  return [...totals.entries()].map(([name, bytes]) => ({ name, bytes })).sort((a, b) => b.bytes - a.bytes);
}

/** The size report, as `flowcap bundle` prints it. */
export function formatBundleReport(report: BundleReport, cwd = process.cwd()): string {
  const lines = [
    `${path.relative(cwd, report.outfile)}  ${humanBytes(report.bytes)} (gzip ${humanBytes(report.gzipBytes)})${report.mapFile ? `, source map ${humanBytes(report.mapBytes ?? 0)}` : ""}`,
    "largest parts:",
    ...report.parts.slice(0, 8).map((p) => `  ${humanBytes(p.bytes).padStart(10)}  ${(100 * p.bytes / Math.max(1, report.bytes)).toFixed(1).padStart(5)}%  ${p.name}`),
  ];
  if (report.mapFile) lines.push(`run it with: node --enable-source-maps ${path.relative(cwd, report.outfile)}  (stack traces then point into the sources)`);
  for (const w of report.warnings) lines.push(`warning: ${w}`);
  return lines.join("\n");
}
