// A tiny benchmark harness: each case runs a few times in this one process, interleaved with its
// baseline, and we report the ratio of medians. Absolute times vary from machine to machine and
// run to run; ratios measured side by side in one run are what we compare and guard.
import { performance } from "node:perf_hooks";

/**
 * One run of `fn`: its wall time, or with `clock: "cpu"` this process's CPU time (user + system,
 * all threads), for in-process cases on a shared machine, where other processes' load would
 * otherwise be measured too. A case may return its own numbers instead: a number (its wall time,
 * when a setup phase must be left out) or `{ wallMs, cpuMs }` (a child process's, measured by the
 * case).
 */
async function once(fn, clock) {
  globalThis.gc?.();
  if (clock === "cpu") {
    const start = process.cpuUsage();
    await fn();
    const used = process.cpuUsage(start);
    return { ms: (used.user + used.system) / 1000 };
  }
  const start = performance.now();
  const reported = await fn();
  if (typeof reported === "number") return { ms: reported };
  if (reported && typeof reported === "object") return { ms: reported.wallMs, cpuMs: reported.cpuMs };
  return { ms: performance.now() - start };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Median time of `runs` runs of `fn`. */
export async function measure(fn, { runs = 5, clock = "wall" } = {}) {
  const times = [];
  for (let i = 0; i < runs; i++) times.push((await once(fn, clock)).ms);
  return median(times);
}

/**
 * Runs `baseline` and each candidate alternately and returns rows of
 * { name, medianMs, ratio } where ratio = baseline median / candidate median (higher is faster).
 * When the cases report CPU time too, a second table gives it (the ratios of record are wall's).
 */
export async function compare(title, baseline, candidates, { runs = 5, clock = "wall" } = {}) {
  const all = [["baseline: " + baseline.name, baseline.fn], ...candidates.map((c) => [c.name, c.fn])];
  const samples = new Map(all.map(([name]) => [name, { ms: [], cpuMs: [] }]));
  for (let i = 0; i < runs; i++) {
    for (const [name, fn] of all) {
      const t = await once(fn, clock);
      samples.get(name).ms.push(t.ms);
      if (t.cpuMs !== undefined) samples.get(name).cpuMs.push(t.cpuMs);
    }
  }
  const table = (key, label) => {
    const base = median(samples.get(all[0][0])[key]);
    const rows = all.map(([name]) => ({ name, medianMs: median(samples.get(name)[key]), ratio: base / median(samples.get(name)[key]) }));
    process.stdout.write(`\n## ${title}${label}\n\n| case | median ${clock === "cpu" || key === "cpuMs" ? "CPU " : ""}ms | speed vs baseline |\n|---|---:|---:|\n`);
    for (const r of rows) process.stdout.write(`| ${r.name} | ${r.medianMs.toFixed(1)} | ${r.ratio.toFixed(2)}× |\n`);
    return rows;
  };
  const rows = table("ms", "");
  if (all.every(([name]) => samples.get(name).cpuMs.length === runs)) table("cpuMs", " (CPU time of the processes)");
  return rows;
}
