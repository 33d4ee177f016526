import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { readAllBatches } from "../../test/helpers/lineBatches.js";
import { LineCollector } from "../../test/helpers/inProcess.js";
import { LineTooLongError } from "../protocol/index.js";
import { createLogger } from "../runtime/index.js";
import { ChildProcessError, startChild, type StartChildOptions } from "./index.js";

function logger() {
  const lines = new LineCollector();
  const log = createLogger({ stream: new Writable({ write: (c, _e, cb) => (lines.push(c as Buffer), cb()) }), level: "debug" });
  return { log, logs: () => lines.json as { level: string; message: string; fields: Record<string, unknown> }[] };
}

const node = (script: string) => [process.execPath, "-e", script];
const python = (script: string) => ["python3", "-c", script];

async function allLines(options: StartChildOptions) {
  const stderr: string[] = [];
  const child = startChild({ ...options, onStderrLine: (line) => stderr.push(line) });
  const { lines, batches } = await readAllBatches(child);
  return { child, lines, batches, stderr };
}

describe("startChild", () => {
  it("hands out stdout as batches of lines, CRLF and a last line without a newline included, and exits cleanly", async () => {
    const { child, lines, stderr } = await allLines({ argv: node("process.stdout.write('a\\r\\nb\\n\\nc'); console.error('to stderr\\r\\n\\n  \\nagain')") });
    expect(lines).toEqual(["a", "b", "", "c"]);
    expect(child.partialLastBatch?.line(0).toString()).toBe("c");
    expect(await child.result()).toEqual({ code: 0, signal: null });
    // stderr: each non-blank line, without its line ending.
    expect(stderr).toEqual(["to stderr", "again"]);
  });

  it("reports a non-zero exit with its status and the tail of its stderr", async () => {
    const { child } = await allLines({
      argv: node("for (let i = 1; i <= 30; i++) console.error('line ' + i); process.exit(3)"),
      stderrTailLines: 5,
      label: "my-source read",
    });
    const error = await child.result().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChildProcessError);
    const e = error as ChildProcessError;
    expect(e.exitCode).toBe(3);
    expect(e.code).toBe("CHILD_FAILED");
    expect(e.stderrTail).toEqual(["line 26", "line 27", "line 28", "line 29", "line 30"]);
    expect(e.message).toBe("my-source read exited with code 3\nlast lines of its stderr:\nline 26\nline 27\nline 28\nline 29\nline 30");
    // What the child said about its failure leads the message.
    expect(child.failure({ code: 3, signal: null }, "Invalid API key").message).toMatch(/^Invalid API key \(my-source read exited with code 3\)\n/);
  });

  it("reports a child killed by a signal, and one that cannot be started", async () => {
    const killed = await allLines({ argv: node("process.kill(process.pid, 'SIGKILL')") });
    await expect(killed.child.result()).rejects.toThrow(/was killed by SIGKILL/);
    const missing = await allLines({ argv: ["/nonexistent/source-binary", "spec"] });
    await expect(missing.child.result()).rejects.toThrow(/^\/nonexistent\/source-binary spec could not be started: spawn \/nonexistent\/source-binary ENOENT/);
  });

  it("stops with SIGTERM, which the child may handle, and that exit is not a failure", async () => {
    const stderr: string[] = [];
    const child = startChild({ argv: node("process.on('SIGTERM', () => { console.error('got SIGTERM'); process.exit(0) }); console.log('ready'); setInterval(() => {}, 1000)"), onStderrLine: (l) => stderr.push(l) });
    const batches = child.lineBatches();
    expect((await batches.next()).value?.line(0).toString()).toBe("ready");
    const exit = await child.stop();
    expect(exit).toEqual({ code: 0, signal: null });
    expect(child.stopRequested).toBe(true);
    await expect(child.result()).resolves.toEqual(exit);
    expect((await batches.next()).done).toBe(true);
    expect(stderr).toContain("got SIGTERM");
  });

  it("kills a child that ignores SIGTERM once the kill timeout passes", async () => {
    const { log, logs } = logger();
    const child = startChild({ argv: node("process.on('SIGTERM', () => {}); console.log('ready'); setInterval(() => {}, 1000)"), log, killTimeoutMs: 300 });
    await child.lineBatches().next();
    const started = Date.now();
    const exit = await child.stop();
    expect(exit.signal).toBe("SIGKILL");
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(logs().some((l) => l.level === "warn" && /did not exit within 300 ms/.test(l.message))).toBe(true);
  });

  it("stops when its AbortSignal aborts", async () => {
    const { log } = logger();
    const controller = new AbortController();
    const child = startChild({ argv: node("console.log('ready'); setInterval(() => {}, 1000)"), log, signal: controller.signal });
    await child.lineBatches().next();
    controller.abort();
    expect((await child.exited).signal).toBe("SIGTERM");
    await expect(child.result()).resolves.toBeDefined();
  });

  it("fails reading a line over the limit", async () => {
    const { log } = logger();
    const child = startChild({ argv: node("console.log('x'.repeat(500))"), log, maxLineBytes: 100 });
    const read = (async () => {
      for await (const _ of child.lineBatches());
    })();
    await expect(read).rejects.toBeInstanceOf(LineTooLongError);
    await child.stop();
  });

  it("stops reading past its high-water mark, so a slow consumer blocks the child; nothing is lost", async () => {
    const stderr: string[] = [];
    // The child reports on stderr how many lines it has written, every 1,000.
    const child = startChild({
      argv: python(
        "import sys\nfor i in range(1, 2000001):\n  sys.stdout.write('%d %s\\n' % (i, 'x' * 100))\n  if i % 1000 == 0:\n    sys.stdout.flush(); sys.stderr.write('wrote %d\\n' % i); sys.stderr.flush()",
      ),
      onStderrLine: (l) => stderr.push(l),
      highWaterMarkBytes: 256 * 1024,
    });
    const batches = child.lineBatches();
    const first = (await batches.next()).value!;
    expect(first.line(0).toString()).toMatch(/^1 x+$/);
    await new Promise((r) => setTimeout(r, 1500));
    const written = () => Math.max(0, ...stderr.map((l) => Number(/^wrote (\d+)$/.exec(l)?.[1] ?? 0)));
    // Unbounded, Python writes about a million lines in that time. Blocked, it gets no further than
    // what fits in our high-water mark (~2,500 lines), the pipe and its own buffer.
    const stalledAt = written();
    expect(stalledAt).toBeLessThan(20_000);
    await new Promise((r) => setTimeout(r, 500));
    expect(written()).toBe(stalledAt);
    // Reading again, every line arrives, in order.
    let expected = 1 + first.count;
    for (let k = 0; k < first.count; k++) expect(first.line(k).toString().startsWith(`${k + 1} `)).toBe(true);
    for await (const batch of batches) {
      for (let k = 0; k < batch.count; k++) {
        const line = batch.line(k);
        const n = Number(line.toString().slice(0, line.indexOf(0x20)));
        if (n !== expected) throw new Error(`line ${n} arrived where ${expected} was expected`);
        expected++;
      }
      if (expected > 300_000) break;
    }
    expect(expected).toBeGreaterThan(300_000);
    await child.stop();
  });
});

describe("ChildProcessHandle.consume", () => {
  it("feeds every line in order, waiting on the consumer, and completes at a clean exit", async () => {
    const { log } = logger();
    const child = startChild({ argv: python("import sys\nfor i in range(5000): print(i)"), log });
    const seen: number[] = [];
    const outcome = await child.consume((line) => {
      seen.push(Number(line.toString()));
      if (seen.length % 1000 === 0) return new Promise<void>((r) => setTimeout(r, 5));
    });
    expect(outcome).toBe("completed");
    expect(seen).toEqual(Array.from({ length: 5000 }, (_, i) => i));
  });

  it("fails with the child's exit, led by the detail read after it exited", async () => {
    const { log } = logger();
    let said: string | undefined;
    const child = startChild({ argv: node("console.log('oops'); console.error('trace'); process.exit(4)"), log, label: "tap" });
    const error = await child.consume((line) => void (said = line.toString()), { detail: () => `it said ${said}` }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChildProcessError);
    expect((error as Error).message).toBe("it said oops (tap exited with code 4)\nlast lines of its stderr:\ntrace");
  });

  it("reads the detail only once the child has exited, so what it says on stderr after closing stdout is in it", async () => {
    const { log } = logger();
    const stderr: string[] = [];
    // stdout closes first; the failure is told on stderr a moment later, as a loaded machine may order it.
    const child = startChild({ argv: node("require('fs').closeSync(1); setTimeout(() => { console.error('HTTPError: 401'); process.exit(1) }, 300)"), log, label: "tap", onStderrLine: (line) => stderr.push(line) });
    const error = await child.consume(() => {}, { detail: () => stderr.at(-1) }).catch((e: unknown) => e);
    expect((error as Error).message).toBe("HTTPError: 401 (tap exited with code 1)\nlast lines of its stderr:\nHTTPError: 401");
  });

  it("stops the child when the consumer throws, and rethrows", async () => {
    const { log } = logger();
    const child = startChild({ argv: node("setInterval(() => console.log('x'), 5)"), log });
    await expect(child.consume(() => {
      throw new Error("bad line");
    })).rejects.toThrow("bad line");
    expect(child.stopRequested).toBe(true);
    expect((await child.exited).signal).toBe("SIGTERM");
  });

  it("stops when its signal aborts: the child is terminated and the outcome is stopped", async () => {
    const { log } = logger();
    const controller = new AbortController();
    const child = startChild({ argv: node("setInterval(() => console.log('x'), 5)"), log });
    let lines = 0;
    const outcome = await child.consume(
      () => {
        if (++lines === 3) controller.abort();
      },
      { signal: controller.signal },
    );
    expect(outcome).toBe("stopped");
    expect(lines).toBeGreaterThanOrEqual(3);
    expect((await child.exited).signal).toBe("SIGTERM");
  });
});

describe("the idle timeout", () => {
  it("stops a child that writes nothing while waited for, and fails naming it and the silence", async () => {
    const { log } = logger();
    const child = startChild({ argv: node("console.log('started'); setInterval(() => {}, 60_000)"), log, label: "tap-hung sync", idleTimeoutMs: 1000, idleTimeoutHint: "--idle-timeout-ms", killTimeoutMs: 2000 });
    const lines: string[] = [];
    const error = (await child.consume((line) => void lines.push(line.toString())).catch((e: unknown) => e)) as ChildProcessError;
    expect(error).toMatchObject({ code: "SOURCE_IDLE", userFacing: true, data: { command: "tap-hung sync", idleTimeoutMs: 1000 } });
    expect(error.message).toMatch(/^tap-hung sync wrote nothing, on stdout or stderr, for \d+ s: it looks hung, so it was stopped\. If it is only slow, raise the idle timeout \(--idle-timeout-ms, now 1000; 0 disables it\)$/);
    expect(lines).toEqual(["started"]);
    expect((await child.exited).signal).toBe("SIGTERM");
  });

  it("takes any line for life, a log on stderr included", async () => {
    const { log } = logger();
    // Alive longer than the timeout, saying so on stderr only.
    const script = "const t = setInterval(() => console.error('still working'), 100); setTimeout(() => { clearInterval(t); console.log('done'); }, 3500)";
    const child = startChild({ argv: node(script), log, idleTimeoutMs: 2500 });
    const lines: string[] = [];
    expect(await child.consume((line) => void lines.push(line.toString()))).toBe("completed");
    expect(lines).toEqual(["done"]);
  });

  it("does not count the time the shim spends behind (waiting on Flow) as the child's silence", async () => {
    const { log } = logger();
    // The child writes one line, then nothing for 4 s; the shim holds that line until the child has exited.
    const child = startChild({ argv: node("console.log('a'); setTimeout(() => {}, 4000)"), log, idleTimeoutMs: 1500 });
    const outcome = await child.consume(() => child.exited.then(() => undefined));
    expect(outcome).toBe("completed");
  });

});
