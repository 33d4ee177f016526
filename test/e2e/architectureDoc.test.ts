import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../helpers/fixtures.js";

/** Every repository path ARCHITECTURE.md names in backquotes (`src/...`, `test/...`, `connectors/...`). */
function namedPaths(): string[] {
  const text = readFileSync(path.join(repoRoot, "ARCHITECTURE.md"), "utf8");
  const paths = [...text.matchAll(/`((?:src|test|connectors|schemas)\/[^`\s]*)`/g)].map((m) => m[1]!);
  return [...new Set(paths)];
}

describe("ARCHITECTURE.md", () => {
  it("names only paths that exist", () => {
    const paths = namedPaths();
    expect(paths.length).toBeGreaterThan(30);
    expect(paths.filter((p) => !existsSync(path.join(repoRoot, p)))).toEqual([]);
  });

  it("lists every folder of src/ in its table of layers", () => {
    const text = readFileSync(path.join(repoRoot, "ARCHITECTURE.md"), "utf8");
    const folders = ["util", "protocol", "runtime", "sdk", "oauth", "shims", "host", "tooling", "testing", "public", "cli"];
    expect(folders.filter((f) => !text.includes("`src/" + f + "/`"))).toEqual([]);
  });
});
