import path from "node:path";
import { describe, expect, it } from "vitest";
import { sampleRss, spawnConnector, type ChildRun } from "../helpers/child.js";
import { repoRoot } from "../helpers/fixtures.js";
import { applyMergePatch } from "../../src/util/mergePatch.js";

const HELLO = [process.execPath, path.join(repoRoot, "dist/connectors/source-hello-world/main.js")];
const INTERNAL_SPEC = { spec: { connectorType: "LOCAL", config: {} } };

const binding = {
  resourceConfig: { name: "greetings" },
  resourcePath: ["greetings"],
  collection: { name: "acmeCo/greetings", key: ["/count"], writeSchema: { type: "object" } },
  stateKey: "greetings",
};
const capture = (rate: number) => ({ name: "acmeCo/hello-world", connectorType: "LOCAL", config: { rate }, bindings: [binding], intervalSeconds: 300 });
const open = (rate: number, state: object) => ({ open: { capture: capture(rate), version: "v1", range: { keyEnd: 4294967295, rClockEnd: 4294967295 }, state } });

/** Runs one request in a fresh process, exactly as Flow does: internal spec first, then the request, then EOF. */
async function unary(request: object | string): Promise<ChildRun & { code: number | null }> {
  const run = spawnConnector(HELLO);
  run.send(INTERNAL_SPEC);
  run.send(request);
  run.end();
  const { code } = await run.exit;
  return Object.assign(run, { code });
}

interface Session {
  docs: number[];
  state: Record<string, unknown>;
  messages: Record<string, unknown>[];
}

/**
 * Checks a session's output by the protocol's rules and reduces it as Flow's runtime would:
 * `opened` first, then sequences closed by checkpoints; documents count only when a checkpoint
 * follows them.
 */
function reduceSession(run: ChildRun, initial: Record<string, unknown>): Session {
  const messages = run.stdout.json;
  expect(run.stdout.unterminated).toBe("");
  expect(messages[1]).toEqual({ opened: {} });
  let state = initial;
  const docs: number[] = [];
  let pending: number[] = [];
  for (const m of messages.slice(2)) {
    if ("captured" in m) pending.push((m.captured as { doc: { count: number } }).doc.count);
    else if ("checkpoint" in m) {
      const s = (m.checkpoint as { state: { updated: unknown; mergePatch?: boolean } }).state;
      expect(s.updated).toBeTypeOf("object");
      state = (s.mergePatch ? applyMergePatch(state, s.updated) : s.updated) as Record<string, unknown>;
      docs.push(...pending);
      pending = [];
    } else throw new Error(`unexpected message ${JSON.stringify(m)}`);
  }
  expect(pending, "the session ended inside a checkpoint sequence").toEqual([]);
  return { docs, state, messages };
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe("source-hello-world, driven as Flow drives it", () => {
  it("answers the internal spec and a spec, then exits 0 at EOF", async () => {
    const run = await unary({ spec: { connectorType: "LOCAL", config: {} }, $internal: "EgJIaRgB", somethingNew: {} });
    expect(run.code).toBe(0);
    const [internal, spec] = run.stdout.json;
    expect(internal).toEqual(spec);
    expect(spec).toMatchObject({ spec: { protocol: 3032023, resourcePathPointers: ["/name"], documentationUrl: expect.stringMatching(/^https:/) } });
    expect((spec as { spec: { configSchema: { properties: object } } }).spec.configSchema.properties).toHaveProperty("rate");
  });

  it("discovers the greetings resource", async () => {
    const run = await unary({ discover: { connectorType: "LOCAL", config: {} } });
    expect(run.code).toBe(0);
    expect(run.stdout.json[1]).toMatchObject({
      discovered: { bindings: [{ recommendedName: "greetings", resourceConfig: { name: "greetings" }, key: ["/count"], resourcePath: ["greetings"] }] },
    });
  });

  it("validates and applies", async () => {
    const v = await unary({ validate: { name: "acmeCo/hello-world", connectorType: "LOCAL", config: { rate: 2 }, bindings: [{ resourceConfig: binding.resourceConfig, collection: binding.collection }] } });
    expect(v.code).toBe(0);
    expect(v.stdout.json[1]).toEqual({ validated: { bindings: [{ resourcePath: ["greetings"] }] } });
    const a = await unary({ apply: { capture: capture(2), version: "v1" } });
    expect(a.code).toBe(0);
    expect(a.stdout.json[1]).toEqual({ applied: {} });
  });

  it("continues the count across sessions from the reduced state, with no gap and no repeat", async () => {
    let state: Record<string, unknown> = {};
    const committed: number[] = [];
    for (const stop of ["eof", "sigterm", "eof"] as const) {
      const run = spawnConnector(HELLO);
      run.send(INTERNAL_SPEC);
      run.send(open(200, state));
      await run.stdout.until((lines) => lines.filter((l) => l.startsWith('{"checkpoint"')).length >= 5);
      if (stop === "eof") run.end();
      else run.child.kill("SIGTERM");
      const { code } = await run.exit;
      expect(code, run.stderr.lines.join("\n")).toBe(0);
      const session = reduceSession(run, state);
      expect(session.docs.length).toBeGreaterThan(0);
      committed.push(...session.docs);
      state = session.state;
      expect(state).toEqual({ bindingStateV1: { greetings: { count: committed.at(-1) } } });
    }
    expect(committed).toEqual(range(1, committed.length));
  });

  it("fails a malformed request line with exit 1 and a message naming the line", async () => {
    const run = await unary("{\"discover\": nope}");
    expect(run.code).toBe(1);
    const last = JSON.parse(run.stderr.lines.at(-1)!) as { level: string; message: string; fields: object };
    expect(last.level).toBe("error");
    expect(last.message).toMatch(/^request line 2: not valid JSON: /);
    expect(JSON.stringify(last.fields)).not.toContain("stack");
  });

  it("fails an invalid config with a readable user error and exit 1", async () => {
    const run = await unary({ discover: { connectorType: "LOCAL", config: { rate: -5, colour: "blue" } } });
    expect(run.code).toBe(1);
    const last = JSON.parse(run.stderr.lines.at(-1)!) as { message: string; fields: object };
    expect(last.message).toBe("endpoint config: 2 problems:\n - colour: is not a known property\n - rate: must be > 0");
    expect(JSON.stringify(last.fields)).not.toContain("stack");
    expect(run.stdout.json).toHaveLength(1); // only the internal spec was answered
  });

  it("keeps memory bounded while its reader stalls, and loses nothing once it reads again", async () => {
    const run = spawnConnector(HELLO, { readStdout: false });
    run.send(INTERNAL_SPEC);
    run.send(open(1e9, {}));
    // Wait for the stall (an event, not a guess at how long filling the pipe takes on this
    // machine): once the writer is blocked, the resident set stops growing. An unbounded writer
    // would grow by hundreds of MB per second at this rate, and never get here under the bound.
    await expect
      .poll(
        async () => {
          const before = run.rssBytes();
          await new Promise((r) => setTimeout(r, 500));
          const after = run.rssBytes();
          expect(after).toBeLessThan(160 * 1024 * 1024);
          return after - before < 1024 * 1024;
        },
        { timeout: 90_000, interval: 0 },
      )
      .toBe(true);
    const rss = await sampleRss(run, { settleMs: 0 });
    // Stalled: a blocked writer holds at most one batch (10k greetings, about 1 MB).
    expect(rss.max).toBeLessThan(160 * 1024 * 1024);
    expect(rss.growth).toBeLessThan(16 * 1024 * 1024);
    run.resumeStdout();
    await run.stdout.until((lines) => lines.length > 50_000, 90_000);
    run.end();
    expect((await run.exit).code).toBe(0);
    const session = reduceSession(run, {});
    expect(session.docs).toEqual(range(1, session.docs.length));
  });
});
