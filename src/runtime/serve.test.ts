import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { openRequest, serveInProcess } from "../../test/helpers/inProcess.js";
import { ConfigError } from "../util/errors.js";
import { sleep } from "../util/abort.js";
import type { CaptureTask, Connector } from "./index.js";

const SPEC = {
  configSchema: { type: "object", properties: { password: { type: "string", secret: true }, host: { type: "string" } } },
  resourceConfigSchema: { type: "object" },
  documentationUrl: "https://example.com/docs",
};

/** A connector whose capture is the given function; unary requests answer fixed values. */
function connector(capture: (task: CaptureTask) => Promise<void>, extra: Partial<Connector> & { explicitAcknowledgements?: boolean } = {}): Connector {
  return {
    spec: () => SPEC,
    discover: () => ({ bindings: [] }),
    validate: (req) => ({ bindings: req.bindings.map(() => ({ resourcePath: ["x"] })) }),
    open: () => ({ opened: extra.explicitAcknowledgements ? { explicitAcknowledgements: true } : {}, capture }),
    ...extra,
  };
}

const idle = connector(async () => {});

describe("serve: unary requests", () => {
  it("answers spec any number of times with protocol 3032023, and exits 0 at EOF", async () => {
    const run = serveInProcess(idle);
    run.send({ spec: { connectorType: "LOCAL", config: {} } });
    run.send({ spec: { connectorType: "LOCAL", config: {} }, $internal: "EgJIaRgB" });
    run.send("");
    run.send({ discover: { config: {} } });
    run.send({ validate: { name: "a/b", config: {}, bindings: [{ resourceConfig: {}, collection: { name: "c", key: ["/k"] } }] } });
    run.send({ apply: { capture: { name: "a/b", config: {}, bindings: [] }, version: "1" } });
    run.end();
    expect(await run.exitCode, run.stderr.lines.join("\n")).toBe(0);
    expect(run.stdout.lines).toEqual([
      JSON.stringify({ spec: { protocol: 3032023, ...SPEC } }),
      JSON.stringify({ spec: { protocol: 3032023, ...SPEC } }),
      '{"discovered":{}}',
      '{"validated":{"bindings":[{"resourcePath":["x"]}]}}',
      '{"applied":{}}',
    ]);
    expect(run.stdout.unterminated).toBe("");
  });

  it("turns console output into JSON log lines while serving, so stdout carries only the protocol, and restores the console after", async () => {
    const before = globalThis.console;
    const chatty = connector(async () => {}, {
      discover: (req) => {
        console.log("discovering %s", "now", req.config);
        console.table([{ a: 1 }]);
        console.error("deprecated option");
        return { bindings: [] };
      },
    });
    const run = serveInProcess(chatty, { routeConsole: true });
    run.send({ discover: { connectorType: "LOCAL", config: { password: "hunter2-secret" } } });
    run.end();
    expect(await run.exitCode).toBe(0);
    expect(run.stdout.lines).toEqual(['{"discovered":{}}']);
    const fromConsole = run.logs().filter((l) => l.fields?.source === "console");
    expect(fromConsole[0]).toMatchObject({ level: "info", message: "discovering now { password: '[redacted]' }" });
    // The table, as one log line.
    expect(fromConsole.filter((l) => l.message.includes("│"))).toHaveLength(1);
    expect(fromConsole.find((l) => l.message.includes("│"))!.message.split("\n").length).toBeGreaterThan(3);
    expect(fromConsole.at(-1)).toMatchObject({ level: "warn", message: "deprecated option" });
    expect(run.stderr.lines.join("\n")).not.toContain("hunter2-secret");
    expect(globalThis.console).toBe(before);
  });

  it("turns raw process.stdout writes into log lines while serving (a line may come in pieces), and restores process.stdout after", async () => {
    const ownWrite = Object.getOwnPropertyDescriptor(process.stdout, "write");
    const chatty = connector(async () => {}, {
      discover: (req) => {
        process.stdout.write("progress: ");
        process.stdout.write(Buffer.from("50%\n"));
        process.stdout.write(`password is ${String(req.config.password)}\nsecond line\n`);
        process.stdout.write("no newline at the end");
        return { bindings: [] };
      },
    });
    const run = serveInProcess(chatty, { routeConsole: true });
    run.send({ discover: { connectorType: "LOCAL", config: { password: "hunter2-secret" } } });
    run.end();
    expect(await run.exitCode).toBe(0);
    expect(run.logs().filter((l) => l.fields?.source === "stdout").map((l) => l.message)).toEqual(["progress: 50%", "password is [redacted]\nsecond line", "no newline at the end"]);
    expect(run.stdout.lines).toEqual(['{"discovered":{}}']);
    expect(Object.getOwnPropertyDescriptor(process.stdout, "write")).toEqual(ownWrite);
  });

  it("fails a malformed line with exit 1, naming the line, without a stack", async () => {
    const run = serveInProcess(idle);
    run.send({ spec: { config: {} } });
    run.send("{not json");
    run.end();
    expect(await run.exitCode).toBe(1);
    const last = run.logs().at(-1)!;
    expect(last.level).toBe("error");
    expect(last.message).toMatch(/^request line 2: not valid JSON/);
    expect(JSON.stringify(last.fields)).not.toContain("stack");
    expect(run.stdout.lines).toHaveLength(1);
  });

  it("logs a user error readably and a bug with its stack, as the last line, exit 1", async () => {
    const user = serveInProcess(
      connector(async () => {}, {
        discover: () => {
          throw new ConfigError([{ path: "host", message: "is required" }], { subject: "endpoint config" });
        },
      }),
    );
    user.send({ discover: { config: {} } });
    user.end();
    expect(await user.exitCode).toBe(1);
    expect(user.logs().at(-1)).toMatchObject({ level: "error", message: "endpoint config: host: is required", fields: { code: "CONFIG_INVALID" } });
    expect(user.stderr.lines.at(-1)).not.toContain("stack");

    const bug = serveInProcess(
      connector(async () => {}, {
        discover: () => {
          throw new TypeError("cannot read properties of undefined");
        },
      }),
    );
    bug.send({ discover: { config: {} } });
    bug.end();
    expect(await bug.exitCode).toBe(1);
    const last = bug.logs().at(-1)!;
    expect(last.message).toBe("cannot read properties of undefined");
    expect((last.fields.error as { stack: string[] }).stack[0]).toMatch(/^TypeError/);
  });

  it("never logs the values of config fields marked secret", async () => {
    const run = serveInProcess(
      connector(async () => {}, {
        discover: (req, ctx) => {
          ctx.log.info("connecting", { config: req.config, url: `postgres://app:${String(req.config.password)}@db` });
          throw new Error(`login failed for password ${String(req.config.password)}`);
        },
      }),
    );
    run.send({ discover: { config: { host: "db.internal", password: "s3cr3t-pw" } } });
    run.end();
    expect(await run.exitCode).toBe(1);
    const all = run.stderr.lines.join("\n");
    expect(all).not.toContain("s3cr3t-pw");
    expect(all).toContain("db.internal");
    expect(all).toContain("[redacted]");
  });

  it("never logs the secrets of a spec request's config either", async () => {
    const run = serveInProcess(
      connector(async () => {}, {
        spec: (req, ctx) => {
          ctx.log.info("asked for the spec", { config: req.config });
          return SPEC;
        },
      }),
    );
    run.send({ spec: { connectorType: "LOCAL", config: { host: "db.internal", password: "s3cr3t-pw" } } });
    run.end();
    expect(await run.exitCode).toBe(0);
    const all = run.stderr.lines.join("\n");
    expect(all).not.toContain("s3cr3t-pw");
    expect(all).toContain("db.internal");
    expect(all).toContain("[redacted]");
  });

  it("honours LOG_LEVEL", async () => {
    const quiet = serveInProcess(connector(async () => {}, { discover: (_r, ctx) => (ctx.log.debug("detail"), ctx.log.warn("careful"), { bindings: [] }) }), {
      env: { LOG_LEVEL: "warn" },
    });
    quiet.send({ discover: { config: {} } });
    quiet.end();
    expect(await quiet.exitCode).toBe(0);
    expect(quiet.logs().map((l) => l.message)).toEqual(["careful"]);
    const line = quiet.logs()[0]!;
    expect(Object.keys(line)).toEqual(["ts", "level", "message", "fields"]);
    expect(new Date(String((line as unknown as { ts: string }).ts)).getTime()).not.toBeNaN();
  });

  it("rejects an acknowledge outside a session", async () => {
    const run = serveInProcess(idle);
    run.send({ acknowledge: { checkpoints: 1 } });
    expect(await run.exitCode).toBe(1);
    expect(run.logs().at(-1)!.message).toMatch(/request line 1: acknowledge without an open capture session/);
  });
});

describe("serve: capture sessions", () => {
  it("writes opened first, then sequences closed by checkpoints, and stops cleanly at EOF", async () => {
    const run = serveInProcess(
      connector(async (task) => {
        for (let i = 1; !task.stopping.aborted; i++) {
          task.captured(0, { id: i });
          task.captured(0, { id: i, again: true });
          await task.checkpoint({ cursor: i });
          await sleep(5, task.stopping);
        }
      }),
    );
    run.send(openRequest({}, ["things"]));
    await run.stdout.until((l) => l.length >= 7);
    run.end();
    expect(await run.exitCode).toBe(0);
    const out = run.stdout.json;
    expect(out[0]).toEqual({ opened: {} });
    expect(out.at(-1)).toHaveProperty("checkpoint");
    for (let i = 1; i < out.length; i += 3) {
      expect(out[i]).toEqual({ captured: { doc: { id: (i + 2) / 3 } } });
      expect(out[i + 2]).toEqual({ checkpoint: { state: { updated: { cursor: (i + 2) / 3 }, mergePatch: true } } });
    }
    expect(run.logs().some((l) => l.fields.eventType === "connectorStatus")).toBe(true);
  });

  it("ends the session (exit 0) when the capture returns, without waiting for stdin", async () => {
    const run = serveInProcess(connector(async (task) => void (await task.checkpoint({}))));
    run.send(openRequest({}, ["a"]));
    expect(await run.exitCode).toBe(0);
    expect(run.stdout.lines).toEqual(['{"opened":{}}', '{"checkpoint":{"state":{"updated":{},"mergePatch":true}}}']);
  });

  it("never writes documents captured after the last checkpoint", async () => {
    const run = serveInProcess(
      connector(async (task) => {
        task.captured(0, { id: 1 });
        await task.checkpoint({ n: 1 });
        task.captured(0, { id: 2 });
        throw new Error("source went away");
      }),
    );
    run.send(openRequest({}, ["a"]));
    expect(await run.exitCode).toBe(1);
    expect(run.stdout.json.map((m) => Object.keys(m)[0])).toEqual(["opened", "captured", "checkpoint"]);
    expect(run.logs().at(-1)!.message).toBe("source went away");
  });

  it("lets any number of tasks wait on the stop signal without Node's listener-leak warning (which would reach Flow's logs)", async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => void warnings.push(warning);
    process.on("warning", onWarning);
    let waiting = 0;
    let allWaiting!: () => void;
    const waited = new Promise<void>((resolve) => (allWaiting = resolve));
    const run = serveInProcess(
      connector(async (task) => {
        const wait = async (t: CaptureTask) => {
          const sleeping = sleep(600_000, t.stopping);
          if (++waiting === 50) allWaiting();
          await sleeping;
        };
        await Promise.all(Array.from({ length: 50 }, (_, i) => task.spawn(`waiter${i}`, wait)));
      }),
    );
    try {
      run.send(openRequest({}, ["a"]));
      await waited;
      run.end();
      expect(await run.exitCode).toBe(0);
      // Node emits the warning on the next tick of the listener that passed the limit.
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((w) => w.name === "MaxListenersExceededWarning")).toEqual([]);
    } finally {
      process.off("warning", onWarning);
    }
  });

  it("interleaves concurrent tasks only at sequence boundaries", async () => {
    const run = serveInProcess(
      connector(async (task) => {
        const work = (binding: number) => async (t: CaptureTask) => {
          for (let i = 0; i < 50; i++) {
            for (let j = 0; j < 3; j++) t.captured(binding, { id: i, b: binding });
            await t.checkpoint({ [`b${binding}`]: i });
          }
        };
        await Promise.all([task.spawn("a", work(0)), task.spawn("b", work(1))]);
      }),
    );
    run.send(openRequest({}, ["a", "b"]));
    expect(await run.exitCode).toBe(0);
    const out = run.stdout.json.slice(1);
    expect(out).toHaveLength(2 * 50 * 4);
    for (let i = 0; i < out.length; i += 4) {
      const binding = (out[i] as { captured: { binding?: number } }).captured.binding ?? 0;
      for (let j = 0; j < 3; j++) expect((out[i + j] as { captured: { binding?: number } }).captured.binding ?? 0).toBe(binding);
      expect(out[i + 3]).toEqual({ checkpoint: { state: { updated: { [`b${binding}`]: (out[i] as { captured: { doc: { id: number } } }).captured.doc.id }, mergePatch: true } } });
    }
  });

  it("refuses a binding index out of range", async () => {
    const run = serveInProcess(connector(async (task) => task.captured(3, { id: 1 })));
    run.send(openRequest({}, ["a"]));
    expect(await run.exitCode).toBe(1);
    expect(run.logs().at(-1)!.message).toBe("binding 3 is out of range: the capture has 1 binding(s), indexed from 0");
  });

  it("with explicit acknowledgements, checkpoint() resolves only when Flow acknowledges, in order", async () => {
    const acked: number[] = [];
    const run = serveInProcess(
      connector(
        async (task) => {
          await Promise.all(
            [0, 1, 2].map((i) =>
              task.spawn(`t${i}`, async (t) => {
                await sleep(i * 20);
                t.captured(0, { id: i });
                await t.checkpoint({ [i]: true });
                acked.push(i);
              }),
            ),
          );
        },
        { explicitAcknowledgements: true },
      ),
    );
    run.send(openRequest({}, ["a"]));
    await run.stdout.until((l) => l.length === 7);
    expect(run.stdout.json[0]).toEqual({ opened: { explicitAcknowledgements: true } });
    await sleep(50);
    expect(acked).toEqual([]);
    run.send({ acknowledge: { checkpoints: 1 } });
    await sleep(50);
    expect(acked).toEqual([0]);
    run.send({ acknowledge: { checkpoints: 2 } });
    expect(await run.exitCode).toBe(0);
    expect(acked).toEqual([0, 1, 2]);
  });

  it("with onAcknowledged, checkpoint() resolves once written and the callback runs when Flow acknowledges, in order, never for unacknowledged ones", async () => {
    const written: number[] = [];
    const acked: number[] = [];
    let stopped: () => void = () => {};
    const done = new Promise<void>((r) => (stopped = r));
    const run = serveInProcess(
      connector(
        async (task) => {
          for (const i of [0, 1, 2]) {
            task.captured(0, { id: i });
            await task.checkpoint({ cursor: i }, { onAcknowledged: () => acked.push(i) });
            written.push(i);
          }
          await done;
        },
        { explicitAcknowledgements: true },
      ),
    );
    run.send(openRequest({}, ["a"]));
    await run.stdout.until((l) => l.length === 7);
    while (written.length < 3) await sleep(5); // none waits for an acknowledgement
    expect(written).toEqual([0, 1, 2]);
    expect(acked).toEqual([]);
    run.send({ acknowledge: { checkpoints: 2 } });
    await sleep(50);
    expect(acked).toEqual([0, 1]);
    stopped();
    run.end();
    expect(await run.exitCode).toBe(0);
    expect(acked).toEqual([0, 1]);
  });

  it("fails when Flow acknowledges more checkpoints than were written", async () => {
    const run = serveInProcess(
      connector(
        async (task) => {
          await task.checkpoint({});
          await sleep(5000, task.stopping);
        },
        { explicitAcknowledgements: true },
      ),
    );
    run.send(openRequest({}, ["a"]));
    await run.stdout.until((l) => l.length === 2);
    run.send({ acknowledge: { checkpoints: 2 } });
    expect(await run.exitCode).toBe(1);
    expect(run.logs().at(-1)!.message).toBe("acknowledge of 2 checkpoint(s) but only 1 is awaiting acknowledgement");
  });

  it("fails on a request other than acknowledge during a session", async () => {
    const run = serveInProcess(connector(async (task) => void (await sleep(5000, task.stopping))));
    run.send(openRequest({}, ["a"]));
    run.send({ spec: { config: {} } });
    expect(await run.exitCode).toBe(1);
    expect(run.logs().at(-1)!.message).toBe("request line 2: unexpected spec request during a capture session (only acknowledge may follow open)");
  });

  it("ends the session after the grace period when a task ignores the stop, writing nothing partial", async () => {
    const run = serveInProcess(
      connector(async (task) => {
        task.captured(0, { id: 1 });
        await task.checkpoint({});
        task.captured(0, { id: 2 });
        await new Promise(() => {}); // never returns
      }),
      { gracefulStopMs: 100 },
    );
    run.send(openRequest({}, ["a"]));
    await run.stdout.until((l) => l.length === 3);
    run.end();
    expect(await run.exitCode).toBe(0);
    expect(run.stdout.json.map((m) => Object.keys(m)[0])).toEqual(["opened", "captured", "checkpoint"]);
    expect(run.logs().some((l) => /did not stop within 100 ms/.test(l.message))).toBe(true);
  });

  it("spools a large sequence to disk and writes it whole", async () => {
    const docs = 20_000;
    const run = serveInProcess(
      connector(async (task) => {
        for (let i = 0; i < docs; i++) task.captured(0, { id: i, pad: "x".repeat(100) });
        expect(task.pendingBytes).toBeGreaterThan(2_000_000);
        await task.checkpoint({ done: true });
      }),
      { spoolMemoryBytes: 256 * 1024 },
    );
    run.send(openRequest({}, ["a"]));
    expect(await run.exitCode).toBe(0);
    const out = run.stdout.json;
    expect(out).toHaveLength(docs + 2);
    out.slice(1, -1).forEach((m, i) => expect((m as { captured: { doc: { id: number } } }).captured.doc.id).toBe(i));
    expect(out.at(-1)).toEqual({ checkpoint: { state: { updated: { done: true }, mergePatch: true } } });
  });

  it("stops producing while stdout's reader stalls, and loses nothing when it resumes", async () => {
    let produced = 0;
    let consumed = 0;
    let release: (() => void) | undefined;
    const stalled = new Writable({
      highWaterMark: 64 * 1024,
      write(chunk: Buffer, _enc, cb) {
        consumed += chunk.toString().split("\n").length - 1;
        if (release === undefined) release = cb; // hold the first chunk: the reader stalls
        else cb();
      },
    });
    const run = serveInProcess(
      connector(async (task) => {
        while (!task.stopping.aborted && produced < 200_000) {
          for (let i = 0; i < 100; i++) task.captured(0, { id: produced++, pad: "y".repeat(200) });
          await task.checkpoint({ produced });
        }
      }),
      { stdoutStream: stalled },
    );
    run.send(openRequest({}, ["a"]));
    await sleep(500);
    // Blocked on the stalled reader: at most about a high-water mark of documents got through.
    expect(produced).toBeLessThan(2_000);
    release!();
    expect(await run.exitCode).toBe(0);
    expect(produced).toBe(200_000);
    expect(consumed).toBe(1 + 200_000 + 2000);
  });
});
