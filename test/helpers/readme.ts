import { readFileSync } from "node:fs";
import path from "node:path";
import { build } from "esbuild";
import ts from "typescript";
import { repoRoot } from "./fixtures.js";

/** The code block (in `lang`, default ts) that follows `<!-- example: <name> ... -->` in README.md. */
export function readmeExample(name: string, lang = "ts"): string {
  const readme = readFileSync(path.join(repoRoot, "README.md"), "utf8");
  const match = new RegExp(`<!-- example: ${name}\\b[^>]*-->\\s*\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``).exec(readme);
  if (!match) throw new Error(`README.md has no example named ${name}`);
  return match[1]!;
}

/** Bundles an example into one ESM file that imports flowcap's sources by its public names. */
export async function bundleExample(source: string, outfile: string): Promise<void> {
  await build({
    entryPoints: [source],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    alias: {
      flowcap: path.join(repoRoot, "src/public/index.ts"),
      "flowcap/oauth": path.join(repoRoot, "src/public/oauth.ts"),
      "flowcap/airbyte": path.join(repoRoot, "src/public/airbyte.ts"),
      "flowcap/singer": path.join(repoRoot, "src/public/singer.ts"),
      "flowcap/testing": path.join(repoRoot, "src/public/testing.ts"),
      "flowcap/host": path.join(repoRoot, "src/public/host.ts"),
    },
    banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
    logLevel: "silent",
  });
}

/** The type errors of an example (or of the files of a scaffolded connector) under the repository's strict settings. */
export function typeErrors(source: string | string[]): string[] {
  const config = ts.getParsedCommandLineOfConfigFile(path.join(repoRoot, "tsconfig.json"), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} })!;
  const program = ts.createProgram([source].flat(), { ...config.options, noEmit: true });
  return ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
}
