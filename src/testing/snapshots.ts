import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { FlowcapError } from "../util/errors.js";
import { isPlainObject } from "../util/mergePatch.js";
import { Redactor } from "../util/redact.js";

/** The environment variable that makes snapshot checks rewrite their files: `UPDATE_SNAPSHOTS=1`. */
export const UPDATE_SNAPSHOTS_ENV = "UPDATE_SNAPSHOTS";

/** Options of matchSnapshot. */
export interface MatchSnapshotOptions {
  /** Secret values to redact from every string (a harness passes its config's). */
  secrets?: Iterable<string>;
  /** Turns volatile parts (timestamps, generated ids) into stable ones before the comparison. */
  normalize?: (value: unknown) => unknown;
  /** Rewrite the file instead of comparing. Default: `UPDATE_SNAPSHOTS` is set to 1 or true. */
  update?: boolean;
  /** Environment to read `UPDATE_SNAPSHOTS` and `CI` from; default process.env. */
  env?: Record<string, string | undefined>;
}

/**
 * Compares `value` with the JSON snapshot in `file`: spec, discovered bindings or captured
 * documents, as flowctl prints them (a harness gives them in that shape). The file holds the
 * value as indented JSON, secrets redacted. A missing file is written, except under CI (`CI`
 * set), where it fails: a snapshot nobody checked in checks nothing. With `UPDATE_SNAPSHOTS=1`
 * the file is rewritten. A mismatch throws a FlowcapError (`SNAPSHOT_MISMATCH`) naming the
 * first line that differs. `file` is a path, or a `file:` URL such as
 * `new URL("snapshots/spec.json", import.meta.url)` (beside the test file, wherever it runs from).
 */
export async function matchSnapshot(fileOrUrl: string | URL, value: unknown, options: MatchSnapshotOptions = {}): Promise<void> {
  const file = typeof fileOrUrl === "string" ? fileOrUrl : fileURLToPath(fileOrUrl);
  const env = options.env ?? process.env;
  const update = options.update ?? /^(1|true)$/i.test(env[UPDATE_SNAPSHOTS_ENV] ?? "");
  const normalized = options.normalize ? options.normalize(value) : value;
  const text = JSON.stringify(redactSecrets(normalized, options.secrets ?? []), null, 2) + "\n";
  if (update || (!existsSync(file) && !env.CI)) {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, text);
    return;
  }
  if (!existsSync(file)) {
    throw new FlowcapError("SNAPSHOT_MISMATCH", `snapshot ${file} does not exist; run the tests with ${UPDATE_SNAPSHOTS_ENV}=1 to write it, and check it in`, { userFacing: true });
  }
  const expected = await readFile(file, "utf8");
  if (expected === text) return;
  const want = expected.split("\n");
  const got = text.split("\n");
  let line = 0;
  while (line < want.length && want[line] === got[line]) line++;
  throw new FlowcapError(
    "SNAPSHOT_MISMATCH",
    `snapshot ${file} differs at line ${line + 1}:\n  expected: ${want[line] ?? "(end of file)"}\n  actual:   ${got[line] ?? "(end of output)"}\nIf the change is intended, run the tests with ${UPDATE_SNAPSHOTS_ENV}=1 and check the new snapshot in.`,
    { userFacing: true, data: { file, line: line + 1 } },
  );
}

/** A copy of `value` with every secret replaced in every string (object keys included). */
export function redactSecrets(value: unknown, secrets: Iterable<string>): unknown {
  const redactor = new Redactor();
  redactor.add(secrets);
  if (redactor.size === 0) return value;
  const walk = (v: unknown): unknown => {
    if (typeof v === "string") return redactor.redact(v);
    if (Array.isArray(v)) return v.map(walk);
    if (isPlainObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [redactor.redact(k), walk(x)]));
    return v;
  };
  return walk(value);
}
