import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root. */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/**
 * The real-world fixtures live beside the repository, in ../shared/fixtures (read-only; never
 * copied in). Outside CI a test may skip when they are absent, loudly; in CI their absence fails.
 */
export const sharedFixtures = path.resolve(repoRoot, "../shared/fixtures");
export const haveSharedFixtures = existsSync(path.join(sharedFixtures, "MANIFEST.md"));

if (!haveSharedFixtures) {
  if (process.env.CI) throw new Error(`shared fixtures not found at ${sharedFixtures}: CI must run with ../shared present`);
  process.stderr.write(`\n!!! SKIPPING fixture tests: ${sharedFixtures} is absent !!!\n\n`);
}

export function fixturePath(...parts: string[]): string {
  return path.join(sharedFixtures, ...parts);
}

export function readFixture(...parts: string[]): string {
  return readFileSync(fixturePath(...parts), "utf8");
}

/** The JSON body of an insta `.snap` file (its `---`-delimited header removed). */
export function readSnapJson(...parts: string[]): unknown {
  const text = readFixture(...parts);
  const body = text.replace(/^---\n[\s\S]*?\n---\n/, "");
  return JSON.parse(body);
}
