import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { build } from "esbuild";
import ts from "typescript";
import { beforeAll, describe, expect, it } from "vitest";
import { spawnConnector } from "../helpers/child.js";
import { repoRoot } from "../helpers/fixtures.js";

/** The code block that follows `<!-- example: <name> ... -->` in README.md. */
function readmeExample(name: string): string {
  const readme = readFileSync(path.join(repoRoot, "README.md"), "utf8");
  const match = new RegExp(`<!-- example: ${name}\\b[^>]*-->\\s*\`\`\`ts\\n([\\s\\S]*?)\`\`\``).exec(readme);
  if (!match) throw new Error(`README.md has no example named ${name}`);
  return match[1]!;
}

const workDir = path.join(repoRoot, "test/.tmp/readme-native");
const source = path.join(workDir, "main.ts");
const bundle = path.join(workDir, "main.mjs");

describe("README's native connector example", () => {
  beforeAll(async () => {
    mkdirSync(workDir, { recursive: true });
    writeFileSync(source, readmeExample("native-connector"));
    await build({
      entryPoints: [source],
      outfile: bundle,
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      alias: { flowcap: path.join(repoRoot, "src/index.ts") },
      banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
      logLevel: "silent",
    });
  });

  it("type-checks against the public API under strict settings", () => {
    const config = ts.getParsedCommandLineOfConfigFile(path.join(repoRoot, "tsconfig.json"), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} })!;
    const program = ts.createProgram([source], { ...config.options, noEmit: true });
    const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
    expect(diagnostics).toEqual([]);
  });

  it("runs as a connector: spec, discover, a config error, and a capture that resumes", async () => {
    const send = async (...requests: object[]) => {
      const run = spawnConnector([process.execPath, bundle]);
      for (const r of requests) run.send(r);
      run.end();
      const { code } = await run.exit;
      return { code, out: run.stdout.json, last: run.logs().at(-1) };
    };
    const spec = await send({ spec: { config: {} } });
    expect(spec.code).toBe(0);
    expect(spec.out[0]).toMatchObject({ spec: { protocol: 3032023, resourcePathPointers: ["/name"] } });

    const discovered = await send({ spec: { config: {} } }, { discover: { config: { token: "tok-123456" } } });
    expect(discovered.out[1]).toMatchObject({ discovered: { bindings: [{ recommendedName: "numbers", key: ["/n"] }] } });

    const invalid = await send({ discover: { config: { start: "one" } } });
    expect(invalid.code).toBe(1);
    expect(invalid.last?.message).toBe("endpoint config: 2 problems:\n - token: is required\n - start: must be integer");

    const open = (state: object) => ({
      open: {
        capture: {
          name: "acmeCo/numbers",
          config: { token: "tok-123456", start: 10 },
          bindings: [{ resourceConfig: { name: "numbers" }, resourcePath: ["numbers"], collection: { name: "acmeCo/numbers", key: ["/n"] }, stateKey: "numbers" }],
        },
        version: "1",
        state,
      },
    });
    const first = await send({ spec: { config: {} } }, open({}));
    expect(first.code).toBe(0);
    expect(first.out.slice(1)).toEqual([
      { opened: {} },
      { captured: { doc: { n: 10 } } },
      { checkpoint: { state: { updated: { bindingStateV1: { numbers: { next: 11 } } }, mergePatch: true } } },
      { captured: { doc: { n: 11 } } },
      { checkpoint: { state: { updated: { bindingStateV1: { numbers: { next: 12 } } }, mergePatch: true } } },
      { captured: { doc: { n: 12 } } },
      { checkpoint: { state: { updated: { bindingStateV1: { numbers: { next: 13 } } }, mergePatch: true } } },
    ]);
    const resumed = await send(open({ bindingStateV1: { numbers: { next: 12 } } }));
    expect(resumed.out.filter((m) => "captured" in m)).toEqual([{ captured: { doc: { n: 12 } } }]);
  });
});
