import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import type { OAuth2 } from "../../src/protocol/index.js";
import { fixturePath, haveSharedFixtures, readFixture } from "./fixtures.js";

/** One `oauth2` block found in the shared Flow fixtures, with the spec it sits in (if any). */
export interface OAuthFixture {
  /** The fixture file, relative to ../shared/fixtures/flow, plus the JSON pointer of the block. */
  name: string;
  file: string;
  oauth2: OAuth2;
  /** The endpoint config schema of the spec holding the block (absent for bare patch files). */
  configSchema?: Record<string, unknown>;
}

function walkFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const full = path.join(dir, entry);
    return statSync(full).isDirectory() ? walkFiles(full) : [full];
  });
}

function parseFixture(file: string): unknown {
  const text = readFixture("flow", file);
  if (file.endsWith(".snap")) return JSON.parse(text.replace(/^---\n[\s\S]*?\n---\n/, ""));
  return JSON.parse(text);
}

/**
 * Every object in ../shared/fixtures/flow that has an `authUrlTemplate`: the oauth2 blocks of
 * Flow spec snapshots (native, shim, Flow's wire goldens) and of airbyte-to-flow patch files.
 */
export function oauthFixtures(): OAuthFixture[] {
  if (!haveSharedFixtures) return [];
  const root = fixturePath("flow");
  const found: OAuthFixture[] = [];
  for (const full of walkFiles(root).sort()) {
    if (!/\.(json|snap)$/.test(full)) continue;
    const file = path.relative(root, full);
    let doc: unknown;
    try {
      doc = parseFixture(file);
    } catch {
      continue; // JSONL and other non-JSON files
    }
    const visit = (node: unknown, pointer: string, spec: Record<string, unknown> | undefined) => {
      if (Array.isArray(node)) node.forEach((v, i) => visit(v, `${pointer}/${i}`, spec));
      else if (node && typeof node === "object") {
        const obj = node as Record<string, unknown>;
        if (typeof obj.authUrlTemplate === "string") {
          found.push({
            name: `${file}${pointer}`,
            file,
            oauth2: obj as unknown as OAuth2,
            configSchema: spec?.configSchema as Record<string, unknown> | undefined,
          });
          return;
        }
        const here = "configSchema" in obj && "oauth2" in obj ? obj : spec;
        for (const [k, v] of Object.entries(obj)) visit(v, `${pointer}/${k}`, here);
      }
    };
    visit(doc, "", undefined);
  }
  return found;
}
