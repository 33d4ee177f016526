#!/usr/bin/env node
// npm run bench: the record path, measured as ratios against plain-Node baselines in one run.
// Not part of npm test; CI does not fail on timing. Guards print a warning when a ratio falls
// below the floor recorded in bench/guards.json (see BENCHMARKS.md).
//
// `node --expose-gc bench/run.mjs <case>` runs one case (its id below) and builds only that
// case's fixtures: each case's module is imported, and its fixtures made, only when it runs.
import { readFileSync } from "node:fs";
import { compare } from "./harness.mjs";

/** Every case, by id, in the order `npm run bench` runs them. */
const CASES = [
  ["lines", async () => (await import("./lines.mjs")).lineCases()],
  ["captured", async () => (await import("./captured.mjs")).capturedCases()],
  ["airbyte", async () => (await import("./airbyte.mjs")).airbyteCases()],
  ["airbyte-child", async () => (await import("./shimChild.mjs")).airbyteChildCases()],
  ["singer", async () => (await import("./singer.mjs")).singerCases()],
  ["singer-child", async () => (await import("./shimChild.mjs")).singerChildCases()],
  ["incremental", async () => (await import("./incremental.mjs")).incrementalCases()],
  ["json-array", async () => (await import("./jsonArray.mjs")).jsonArrayCases()],
  ["cold-spec", async () => (await import("./coldSpec.mjs")).coldSpecCases()],
];
/** Cases that need PostgreSQL installed (Debian's postgresql); `postgres` runs all of them. */
const POSTGRES_CASES = ["postgres-replication", "postgres-backfill", "postgres-decode"];

const only = process.argv[2];
if (only && !CASES.some(([id]) => id === only) && only !== "postgres" && !POSTGRES_CASES.includes(only)) {
  process.stderr.write(`unknown case ${JSON.stringify(only)}; the cases are: ${[...CASES.map(([id]) => id), "postgres", ...POSTGRES_CASES].join(", ")}\n`);
  process.exit(2);
}

const guards = JSON.parse(readFileSync(new URL("./guards.json", import.meta.url), "utf8"));
let warnings = 0;
async function runGroup(spec) {
  const rows = await compare(spec.title, spec.baseline, spec.candidates, { runs: spec.runs ?? 5, clock: spec.clock });
  // Ratios between two candidates (the shims against naive Python and against the ceiling).
  for (const [faster, slower] of spec.relations ?? []) {
    const a = rows.find((r) => r.name === faster);
    const b = rows.find((r) => r.name === slower);
    const row = { name: `${faster} vs ${slower}`, ratio: b.medianMs / a.medianMs };
    rows.push(row);
    process.stdout.write(`\n${row.name}: ${row.ratio.toFixed(2)}×`);
  }
  if (spec.relations?.length) process.stdout.write("\n");
  spec.report?.(rows);
  for (const row of rows) {
    const floor = guards[spec.id]?.[row.name];
    if (floor !== undefined && row.ratio < floor) {
      warnings++;
      process.stdout.write(`\nWARNING: ${spec.id} / ${row.name}: ${row.ratio.toFixed(2)}× is below its guard of ${floor}×\n`);
    }
  }
  await spec.cleanup?.();
}

for (const [id, load] of CASES) {
  if (only && id !== only) continue;
  await runGroup(await load());
}
if (!only || only === "json-array") await (await import("./jsonArray.mjs")).jsonArrayMemory();
if (!only || only === "postgres" || POSTGRES_CASES.includes(only)) {
  const postgres = await (await import("./postgres.mjs")).postgresCases();
  try {
    for (const spec of postgres.groups) if (!only || only === "postgres" || spec.id === only) await runGroup(spec);
  } finally {
    await postgres.cleanup();
  }
}
process.stdout.write(warnings ? `\n${warnings} guard(s) below their floor\n` : "\nall guards hold\n");
