#!/usr/bin/env node
// npm run bench: the record path, measured as ratios against plain-Node baselines in one run.
// Not part of npm test; CI does not fail on timing. Guards print a warning when a ratio falls
// below the floor recorded in bench/guards.json (see BENCHMARKS.md).
import { readFileSync } from "node:fs";
import { compare } from "./harness.mjs";
import { lineCases } from "./lines.mjs";
import { capturedCases } from "./captured.mjs";
import { airbyteCases } from "./airbyte.mjs";
import { airbyteChildCases } from "./airbyteChild.mjs";
import { singerCases } from "./singer.mjs";
import { incrementalCases } from "./incremental.mjs";
import { postgresCases } from "./postgres.mjs";
import { jsonArrayCases, jsonArrayMemory } from "./jsonArray.mjs";

const guards = JSON.parse(readFileSync(new URL("./guards.json", import.meta.url), "utf8"));
const only = process.argv[2];
let warnings = 0;
async function runGroup(spec) {
  const rows = await compare(spec.title, spec.baseline, spec.candidates, { runs: spec.runs ?? 5, clock: spec.clock });
  for (const row of rows) {
    const floor = guards[spec.id]?.[row.name];
    if (floor !== undefined && row.ratio < floor) {
      warnings++;
      process.stdout.write(`\nWARNING: ${spec.id} / ${row.name}: ${row.ratio.toFixed(2)}× is below its guard of ${floor}×\n`);
    }
  }
}

for (const group of [lineCases, capturedCases, airbyteCases, airbyteChildCases, singerCases, incrementalCases, jsonArrayCases]) {
  const spec = await group();
  if (only && spec.id !== only) continue;
  await runGroup(spec);
}
// source-postgres against a throwaway cluster: needs PostgreSQL installed (Debian's postgresql).
if (!only || only.startsWith("postgres")) {
  const postgres = await postgresCases();
  try {
    for (const spec of postgres.groups) if (!only || only === "postgres" || spec.id === only) await runGroup(spec);
  } finally {
    await postgres.cleanup();
  }
}
if (!only || only === "json-array") await jsonArrayMemory();
process.stdout.write(warnings ? `\n${warnings} guard(s) below their floor\n` : "\nall guards hold\n");
