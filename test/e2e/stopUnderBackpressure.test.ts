// A capture told to stop (SIGTERM, or stdin closed) while Flow is not reading its stdout: three
// tasks each writing 5 MB checkpoint sequences through the single writer. The stop must end
// within the grace period whatever the reader does: exit 0 once what was committed is written,
// or a clear error; never a hang, never Node's exit 13 (an unsettled top-level await).
import { describe, expect, it } from "vitest";
import { spawnConnector, type ChildRun } from "../helpers/child.js";
import { repoRoot } from "../helpers/fixtures.js";
import { openRequest } from "../helpers/inProcess.js";

/** Three tasks, each capturing ~5 MB, then a checkpoint, until told to stop (after that one more). */
const CONNECTOR = `
import { serve } from "flowcap";
const pad = "x".repeat(1000);
await serve({
  spec: () => ({ configSchema: { type: "object" }, resourceConfigSchema: { type: "object" }, documentationUrl: "https://example.com" }),
  discover: () => ({ bindings: [] }),
  validate: () => ({ bindings: [] }),
  open: () => ({
    opened: {},
    capture: (task) => Promise.all([0, 1, 2].map((b) => task.spawn("b" + b, async (t) => {
      for (let seq = 0; ; seq++) {
        for (let i = 0; i < 5000; i++) t.captured(b, { seq, i, pad });
        await t.checkpoint({ ["b" + b]: seq });
        if (t.stopping.aborted) return;
      }
    }))),
  }),
}, { gracefulStopMs: Number(process.env.GRACE_MS) });
`;

/**
 * Starts the connector and opens the capture. `exited` resolves with the exit code once the
 * process has exited and its stderr is read to the end (a ChildRun's `exit` waits for its
 * stdout to close too, which a paused reader never lets happen).
 */
function start(graceMs: number): ChildRun & { exited: Promise<number | null> } {
  const run = spawnConnector([process.execPath, "--input-type=module", "-e", CONNECTOR], { cwd: repoRoot, env: { LOG_LEVEL: "debug", GRACE_MS: String(graceMs) } });
  const stderrEnded = new Promise<void>((resolve) => run.child.stderr.once("end", () => resolve()));
  const exited = new Promise<number | null>((resolve) => run.child.once("exit", (code) => void stderrEnded.then(() => resolve(code))));
  run.send(openRequest({}, ["a", "b", "c"]));
  return { ...run, exited };
}

/** Lets the capture write a few sequences, then stops reading its stdout (Flow stalls). */
async function stallReader(run: ChildRun): Promise<void> {
  await run.stdout.until((lines) => lines.filter((l) => l.startsWith('{"checkpoint"')).length >= 3, 60_000);
  run.child.stdout.pause();
}

/** After the process exited: reads what is left in the pipe; every complete line must be a protocol message. */
async function drain(run: ChildRun): Promise<void> {
  run.child.stdout.resume();
  await run.exit;
  for (const line of run.stdout.lines) expect(() => JSON.parse(line)).not.toThrow();
}

function expectStalledError(run: ChildRun, code: number | null): void {
  expect(code, run.stderr.lines.slice(-5).join("\n")).toBe(1);
  const last = run.logs().at(-1)!;
  expect(last).toMatchObject({ level: "error", fields: { code: "OUTPUT_STALLED" } });
  expect(last.message).toMatch(/^Flow did not read the connector's output within the graceful stop period \(1000 ms\)/);
  expect(JSON.stringify(last.fields)).not.toContain("stack");
}

describe("stopping while Flow does not read stdout", () => {
  it("after SIGTERM: ends within the grace period with a clear error, not a hang", async () => {
    const run = start(1000);
    await stallReader(run);
    run.child.kill("SIGTERM");
    expectStalledError(run, await run.exited);
    await drain(run);
  }, 120_000);

  it("at stdin EOF: ends within the grace period with a clear error, not exit 13", async () => {
    const run = start(1000);
    await stallReader(run);
    run.end();
    expectStalledError(run, await run.exited);
    await drain(run);
  }, 120_000);

  it("exits 0 with every sequence whole once Flow reads again within the grace period", async () => {
    const run = start(120_000);
    await stallReader(run);
    run.child.kill("SIGTERM");
    await run.stderr.until((lines) => lines.some((l) => l.includes('"message":"capture stopping"')), 60_000);
    run.child.stdout.resume();
    const { code } = await run.exit;
    expect(code, run.stderr.lines.slice(-5).join("\n")).toBe(0);
    expect(run.stdout.unterminated).toBe("");
    // Every task's last sequence was committed: the output ends with checkpoints, no document after them.
    const last = run.stdout.lines.findLastIndex((l) => l.startsWith('{"captured"'));
    expect(run.stdout.lines.slice(last + 1).length).toBeGreaterThanOrEqual(1);
    expect(run.stdout.lines.slice(last + 1).every((l) => l.startsWith('{"checkpoint"'))).toBe(true);
  }, 120_000);
});
