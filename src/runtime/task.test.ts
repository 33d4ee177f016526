import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { LineCollector, openRequest, serveInProcess } from "../../test/helpers/inProcess.js";
import { deferred, sleep } from "../util/abort.js";
import type { CaptureTask, Connector } from "./index.js";

/** A connector whose capture is the given function. */
function connector(capture: (task: CaptureTask) => Promise<void>, explicitAcknowledgements = false): Connector {
  return {
    spec: () => ({ configSchema: { type: "object" }, resourceConfigSchema: { type: "object" }, documentationUrl: "https://example.com/docs" }),
    discover: () => ({ bindings: [] }),
    validate: () => ({ bindings: [] }),
    open: () => ({ opened: explicitAcknowledgements ? { explicitAcknowledgements: true } : {}, capture }),
  };
}

/** Enough documents to fill many of the spool's blocks, so that some are written through. */
const MANY = 8_000;
const PAD = "p".repeat(100);

type Out = { captured?: { binding?: number; doc: { id: number; task?: string } }; checkpoint?: { state: { updated: Record<string, unknown> } } };

/** What each stdout line is: `a3` (task a's document 3), `A` (a checkpoint of task a), ... */
function shape(out: Out[]): string[] {
  return out.map((m) => (m.captured ? `${m.captured.doc.task}${m.captured.doc.id}` : m.checkpoint ? String(Object.keys(m.checkpoint.state.updated)[0]).toUpperCase() : Object.keys(m)[0]!));
}

/** `t` captures task a's documents `from` … `from + count - 1`, padded so that they fill blocks. */
function captureMany(t: CaptureTask, count = MANY, from = 0): void {
  for (let id = from; id < from + count; id++) t.captured(0, { id, task: "a", pad: PAD });
}

/** The shape of task a's documents `from` … `from + count - 1`. */
function manyShape(count = MANY, from = 0): string[] {
  return Array.from({ length: count }, (_, i) => `a${from + i}`);
}

/** Nothing but task a's documents follows `opened`: no checkpoint, no other task's document. */
function onlyTaskADocuments(out: unknown[]): boolean {
  return shape(out as Out[]).slice(1).every((s) => s.startsWith("a"));
}

describe("CaptureTask.writeThrough", () => {
  it("writes a section's documents as they are made, and other tasks' sequences only before or after it", async () => {
    const checkpointNow = deferred<void>();
    const otherWaiting = deferred<void>();
    let otherCommitted = false;
    const run = serveInProcess(
      connector(async (task) => {
        await Promise.all([
          task.spawn("a", async (t) => {
            await t.writeThrough(async () => {
              captureMany(t);
              await checkpointNow.promise;
              t.captured(0, { id: MANY, task: "a" });
              await t.checkpoint({ a: MANY });
            });
          }),
          task.spawn("b", async (t) => {
            await otherWaiting.promise;
            t.captured(0, { id: 0, task: "b" });
            await t.checkpoint({ b: 0 });
            otherCommitted = true;
          }),
        ]);
      }),
    );
    run.send(openRequest({}, ["x"]));
    // Most of the section is out while it has not reached its checkpoint.
    await run.stdout.until((lines) => lines.length > MANY / 2);
    otherWaiting.resolve();
    await sleep(100);
    // The other task's checkpoint waits for the section to end.
    expect(otherCommitted).toBe(false);
    expect(shape(run.stdout.json as Out[]).filter((s) => s.startsWith("b") || s === "A" || s === "B")).toEqual([]);
    checkpointNow.resolve();
    expect(await run.exitCode).toBe(0);
    expect(otherCommitted).toBe(true);
    const lines = shape(run.stdout.json as Out[]);
    expect(lines).toEqual(["opened", ...manyShape(MANY + 1), "A", "b0", "B"]);
    expect(run.stdout.unterminated).toBe("");
  });

  it("keeps the order of what the task buffered before the section, and holds documents again after it", async () => {
    const run = serveInProcess(
      connector(async (task) => {
        task.captured(0, { id: 0, task: "a" });
        task.sourcedSchema(0, { type: "object" });
        await task.writeThrough(async () => {
          captureMany(task, MANY, 1);
          await task.checkpoint({ a: 1 });
        });
        task.captured(0, { id: MANY + 1, task: "a" });
        await task.checkpoint({ a: 2 });
      }),
    );
    run.send(openRequest({}, ["x"]));
    expect(await run.exitCode).toBe(0);
    expect(shape(run.stdout.json as Out[])).toEqual(["opened", "a0", "sourcedSchema", ...manyShape(MANY, 1), "A", `a${MANY + 1}`, "A"]);
  });

  it("after a failure mid-section, writes nothing more: no checkpoint of any task can commit part of the section", async () => {
    const run = serveInProcess(
      connector(async (task) => {
        await Promise.all([
          task.spawn("a", async (t) => {
            await t.writeThrough(async () => {
              captureMany(t);
              await run.stdout.until((lines) => lines.length > MANY / 2); // written through meanwhile
              throw new Error("the source connection dropped");
            });
          }),
          task.spawn("b", async (t) => {
            await sleep(50);
            t.captured(0, { id: 0, task: "b" });
            await t.checkpoint({ b: 0 }); // queued behind the section: refused
          }),
        ]);
      }),
    );
    run.send(openRequest({}, ["x"]));
    expect(await run.exitCode).toBe(1);
    expect(shape(run.stdout.json as Out[]).length).toBeGreaterThan(MANY / 2); // the section was partly written through
    expect(onlyTaskADocuments(run.stdout.json)).toBe(true); // and nothing after it
    expect(run.logs().at(-1)!.message).toBe("the source connection dropped");
  });

  it("a section that goes on to its checkpoint when told to stop ends the session cleanly", async () => {
    const started = deferred<void>();
    const run = serveInProcess(
      connector(async (task) => {
        await task.writeThrough(async () => {
          captureMany(task);
          started.resolve();
          while (!task.stopping.aborted) await sleep(10);
          await sleep(50);
          await task.checkpoint({ a: MANY });
        });
      }),
    );
    run.send(openRequest({}, ["x"]));
    await started.promise;
    run.end();
    expect(await run.exitCode).toBe(0);
    expect(shape(run.stdout.json as Out[])).toEqual(["opened", ...manyShape(), "A"]);
  });

  it("a section that stops before its checkpoint ends the session with an error, and nothing follows its documents", async () => {
    const started = deferred<void>();
    const run = serveInProcess(
      connector(async (task) => {
        await Promise.all([
          task.spawn("a", async (t) => {
            await t.writeThrough(async () => {
              captureMany(t);
              started.resolve();
              await sleep(60_000, t.stopping);
              if (t.stopping.aborted) throw t.stopping.reason as Error; // the session's StoppedError
              await t.checkpoint({ a: MANY });
            });
          }),
          task.spawn("b", async (t) => {
            await started.promise;
            t.captured(0, { id: 0, task: "b" });
            await t.checkpoint({ b: 0 });
          }),
        ]);
      }),
    );
    run.send(openRequest({}, ["x"]));
    await started.promise;
    await run.stdout.until((lines) => lines.length > MANY / 2);
    run.end();
    expect(await run.exitCode).toBe(1);
    expect(onlyTaskADocuments(run.stdout.json)).toBe(true);
    expect(run.logs().at(-1)!.message).toMatch(/^capture task a stopped inside a checkpoint sequence it was writing through \(capture stopped: stdin closed\): the documents it wrote after its last checkpoint are not committed/);
  });

  it("a section that does not reach its checkpoint within the grace period ends the session with an error naming it", async () => {
    const started = deferred<void>();
    const run = serveInProcess(
      connector(async (task) => {
        await task.writeThrough(async () => {
          captureMany(task);
          started.resolve();
          await new Promise(() => {}); // never reaches its checkpoint
        });
      }),
      { gracefulStopMs: 100 },
    );
    run.send(openRequest({}, ["x"]));
    await started.promise;
    run.end();
    expect(await run.exitCode).toBe(1);
    expect(onlyTaskADocuments(run.stdout.json)).toBe(true);
    expect(run.logs().at(-1)!.message).toMatch(/^capture task capture's checkpoint sequence \(written through\) did not end within the graceful stop period \(100 ms\)/);
  });

  it("refuses a section that ends without a checkpoint after writing documents", async () => {
    const run = serveInProcess(
      connector(async (task) => {
        await task.writeThrough(async () => {
          captureMany(task);
          await sleep(10);
        });
        await task.checkpoint({ a: 1 });
      }),
    );
    run.send(openRequest({}, ["x"]));
    expect(await run.exitCode).toBe(1);
    expect(onlyTaskADocuments(run.stdout.json)).toBe(true);
    expect(run.logs().at(-1)!.message).toMatch(/a writeThrough\(\) section ended without a checkpoint after the documents it wrote/);
  });

  it("registers a section's checkpoints for acknowledgement in stdout order with other tasks'", async () => {
    const acked: string[] = [];
    const run = serveInProcess(
      connector(async (task) => {
        await Promise.all([
          task.spawn("a", async (t) => {
            for (let n = 0; n < 3; n++) {
              await t.writeThrough(async () => {
                captureMany(t, 300);
                await t.checkpoint({ a: n }, { onAcknowledged: () => acked.push(`a${n}`) });
              });
            }
          }),
          task.spawn("b", async (t) => {
            for (let n = 0; n < 3; n++) {
              t.captured(0, { id: n, task: "b" });
              await t.checkpoint({ b: n }, { onAcknowledged: () => acked.push(`b${n}`) });
            }
          }),
        ]);
        while (acked.length < 6 && !task.stopping.aborted) await sleep(10);
      }, true),
    );
    run.send(openRequest({}, ["x"]));
    await run.stdout.until((lines) => lines.filter((l) => l.startsWith('{"checkpoint"')).length === 6);
    run.send({ acknowledge: { checkpoints: 6 } });
    expect(await run.exitCode).toBe(0);
    const written = (run.stdout.json as Out[]).filter((m) => m.checkpoint).map((m) => Object.entries(m.checkpoint!.state.updated)[0]!.join(""));
    expect(acked).toEqual(written);
  });

  it("spills what a slow reader has not taken within the budget, and writes it all in order", async () => {
    const docs = 20_000;
    const run = serveInProcess(
      connector(async (task) => {
        await task.writeThrough(async () => {
          captureMany(task, docs);
          await task.checkpoint({ a: docs });
        });
      }),
      { spoolMemoryBytes: 64 * 1024 },
    );
    run.send(openRequest({}, ["x"]));
    expect(await run.exitCode).toBe(0);
    expect(shape(run.stdout.json as Out[])).toEqual(["opened", ...manyShape(docs), "A"]);
  });
});

describe("CaptureTask.writable", () => {
  it("lets a producer in a section keep what is not yet written out bounded while stdout's reader is slow, losing nothing", async () => {
    const docs = 20_000;
    let maxUnwritten = 0;
    let reads = 0;
    const received = new LineCollector();
    const slow = new Writable({
      highWaterMark: 16 * 1024,
      write(chunk: Buffer, _enc, cb) {
        received.push(chunk);
        // A reader that takes its time with every other chunk.
        if (++reads % 2 === 0) setTimeout(cb, 1);
        else cb();
      },
    });
    const run = serveInProcess(
      connector(async (task) => {
        await task.writeThrough(async () => {
          for (let id = 0; id < docs; id++) {
            task.captured(0, { id, task: "a", pad: PAD });
            maxUnwritten = Math.max(maxUnwritten, task.unwrittenBytes);
            if (task.unwrittenBytes > 128 * 1024) await task.writable(32 * 1024);
          }
          await task.checkpoint({ a: docs });
        });
      }),
      { stdoutStream: slow },
    );
    run.send(openRequest({}, ["x"]));
    expect(await run.exitCode).toBe(0);
    // Past the bound by at most what was taken in one go (a block's worth, or a few).
    expect(maxUnwritten).toBeLessThan(256 * 1024);
    expect(shape(received.json as Out[])).toEqual(["opened", ...manyShape(docs), "A"]);
  });

  it("hands a section's last documents to stdout at its checkpoint without waiting for the reader; the next section waits instead", async () => {
    let release: (() => void) | undefined;
    const received = new LineCollector();
    const stalling = new Writable({
      highWaterMark: 16 * 1024,
      write(chunk: Buffer, _enc, cb) {
        received.push(chunk);
        if (release === undefined && received.lines.length > 10) release = cb; // the reader stalls once
        else cb();
      },
    });
    let firstDone = false;
    const run = serveInProcess(
      connector(async (task) => {
        await task.writeThrough(async () => {
          captureMany(task);
          await task.checkpoint({ a: 1 });
        });
        firstDone = true;
        await task.writeThrough(async () => {
          task.captured(0, { id: MANY, task: "a" });
          await task.checkpoint({ a: 2 });
        });
      }),
      { stdoutStream: stalling },
    );
    run.send(openRequest({}, ["x"]));
    // Generous: the first section is quick, unless it waits for the stalled reader.
    for (let i = 0; i < 4_000 && !firstDone; i++) await sleep(5);
    expect(firstDone).toBe(true);
    // The first section ended while its reader had not read it; nothing of the second is out.
    expect(release).toBeDefined();
    expect(received.lines.length).toBeLessThan(MANY);
    release!();
    expect(await run.exitCode).toBe(0);
    expect(shape(received.json as Out[])).toEqual(["opened", ...manyShape(), "A", `a${MANY}`, "A"]);
  });
});
