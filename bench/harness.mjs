// A tiny benchmark harness: each case runs a few times in this one process, interleaved with its
// baseline, and we report the ratio of medians. Absolute times vary from machine to machine and
// run to run; ratios measured side by side in one run are what we compare and guard.
import { performance } from "node:perf_hooks";

/**
 * Median time of `runs` runs of `fn`. `clock: "cpu"` counts the process's CPU time (user +
 * system, all threads) instead of wall time: for in-process cases on a shared machine, where other
 * processes' load would otherwise be measured too.
 */
export async function measure(fn, { runs = 5, clock = "wall" } = {}) {
  const times = [];
  for (let i = 0; i < runs; i++) {
    globalThis.gc?.();
    if (clock === "cpu") {
      const start = process.cpuUsage();
      await fn();
      const used = process.cpuUsage(start);
      times.push((used.user + used.system) / 1000);
      continue;
    }
    const start = performance.now();
    const reported = await fn();
    // A case that must leave a setup phase out of its time (a process's startup) returns its own.
    times.push(typeof reported === "number" ? reported : performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/**
 * Runs `baseline` and each candidate alternately and returns rows of
 * { name, medianMs, ratio } where ratio = baseline median / candidate median (higher is faster).
 */
export async function compare(title, baseline, candidates, { runs = 5, clock = "wall" } = {}) {
  const all = [["baseline: " + baseline.name, baseline.fn], ...candidates.map((c) => [c.name, c.fn])];
  const samples = new Map(all.map(([name]) => [name, []]));
  for (let i = 0; i < runs; i++) {
    for (const [name, fn] of all) samples.get(name).push(await measure(fn, { runs: 1, clock }));
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const base = median(samples.get(all[0][0]));
  const rows = all.map(([name]) => ({ name, medianMs: median(samples.get(name)), ratio: base / median(samples.get(name)) }));
  process.stdout.write(`\n## ${title}\n\n| case | median ${clock === "cpu" ? "CPU " : ""}ms | speed vs baseline |\n|---|---:|---:|\n`);
  for (const r of rows) process.stdout.write(`| ${r.name} | ${r.medianMs.toFixed(1)} | ${r.ratio.toFixed(2)}× |\n`);
  return rows;
}
