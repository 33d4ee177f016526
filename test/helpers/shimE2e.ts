import { readFileSync } from "node:fs";
import { expect } from "vitest";
import { reduceSession } from "./airbyte.js";
import { sampleRss, type ChildRun } from "./child.js";

/**
 * What the shims' end-to-end tests check alike (`flowcap airbyte`, `flowcap singer`): a wrapped
 * program's log file, exactly-once delivery, a process being alive, and memory staying bounded
 * while Flow reads slowly.
 */

type Json = Record<string, unknown>;

/** The JSON lines of a file (a replay program's invocation log). */
export function readJsonLines(file: string): Json[] {
  return readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Json);
}

/** Committed ids per stream must be exactly 1..n, each once. */
export function expectExactlyOnce(docs: { doc: Json }[], streams: string[], total: number): void {
  for (const stream of streams) {
    const ids = docs.filter((d) => d.doc.stream === stream).map((d) => d.doc.id as number);
    expect(ids, stream).toEqual(Array.from({ length: total }, (_, i) => i + 1));
  }
}

/** Whether process `pid` is alive. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A connector whose wrapped program writes ~1 KB records of stream "a" as fast as it can,
 * logging `wrote <n>` on stderr as it goes, and whose stdout is not read (`readStdout: false`):
 * checks that its memory stays bounded and the program is blocked (no more writes), then reads
 * again and checks that nothing was lost.
 */
export async function expectBoundedWhileStalled(run: ChildRun & { resumeStdout(): void }): Promise<void> {
  const written = () => Math.max(0, ...run.logs().map((l) => Number(/^wrote (\d+)$/.exec(l.message)?.[1] ?? 0)));
  // Wait for the stall (an event, not a guess at how long filling the pipes takes on this
  // machine): the program is blocked once the shim stops reading it, so its progress stops.
  let stalledAt = -1;
  await expect
    .poll(
      async () => {
        const before = written();
        await new Promise((r) => setTimeout(r, 500));
        stalledAt = written();
        return before > 0 && stalledAt === before;
      },
      { timeout: 90_000, interval: 0 },
    )
    .toBe(true);
  expect(stalledAt).toBeLessThan(50_000);
  // Python writes ~1 KB records at tens of MB/s: unbounded, the shim would grow by that much
  // every second. Stalled, it holds one state's worth of records, and no more.
  const rss = await sampleRss(run, { settleMs: 0 });
  expect(rss.max).toBeLessThan(160 * 1024 * 1024);
  expect(rss.growth).toBeLessThan(16 * 1024 * 1024);
  expect(written()).toBe(stalledAt);
  run.resumeStdout();
  await run.stdout.until((lines) => lines.length > 30_000, 90_000);
  run.child.kill("SIGTERM");
  expect((await run.exit).code).toBe(0);
  const session = reduceSession(run.stdout.json);
  expectExactlyOnce(session.docs, ["a"], session.docs.length);
  expect(session.docs.length).toBeGreaterThan(25_000);
}
