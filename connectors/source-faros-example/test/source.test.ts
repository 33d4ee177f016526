// source-faros-example: an Airbyte source written with faros-airbyte-cdk, captured by flowcap
// both ways: through its own CLI as a child process (`flowcap airbyte -- bin/main`) and
// in-process (`farosSource`), against a tickets API served on 127.0.0.1 by this test.
import { writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAirbyteConnector, farosSource } from "flowcap/airbyte";
import { loadCatalog, runChecks, selectCapture } from "flowcap/host";
import { airbyteBinding, FLOWCAP, INTERNAL_SPEC, openRequest, reduceSession, tmpDir, type ReducedSession } from "../../../test/helpers/airbyte.js";
import { spawnConnector } from "../../../test/helpers/child.js";
import { repoRoot } from "../../../test/helpers/fixtures.js";
import { serveInProcess } from "../../../test/helpers/inProcess.js";
import { createSource } from "../src/index.js";
import { projectSchema, ticketSchema } from "../src/models.js";

type Json = Record<string, unknown>;
const TOKEN = "tk-example-5678";
const CLI = [...FLOWCAP, "airbyte", "--", path.join(repoRoot, "connectors/source-faros-example/bin/main")];
const FLOW_MAIN = [process.execPath, path.join(repoRoot, "dist/connectors/source-faros-example/src/flow.js")];

/** The tickets API: projects, and tickets listed oldest first, 7 to a page at most. */
class TicketsServer {
  projects = [
    { id: "p1", name: "Website" },
    { id: "p2", name: "Mobile" },
  ];
  tickets: { id: number; project_id: string; title: string; status: string; updated_at: string }[] = [];
  private server: Server | undefined;
  url = "";

  add(n: number): void {
    for (let i = 0; i < n; i++) {
      const id = this.tickets.length + 1;
      this.tickets.push({ id, project_id: id % 2 ? "p1" : "p2", title: `Ticket ${id}`, status: "open", updated_at: new Date(Date.UTC(2024, 0, 1, 0, 0, id)).toISOString() });
    }
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const url = new URL(req.url!, "http://x");
      const json = (status: number, body: unknown) => {
        res.statusCode = status;
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify(body));
      };
      if (req.headers.authorization !== `Bearer ${TOKEN}`) return json(401, { error: "invalid token" });
      if (url.pathname === "/api/me") return json(200, { name: "Ada" });
      if (url.pathname === "/api/projects") return json(200, { projects: this.projects });
      if (url.pathname === "/api/tickets") {
        const since = Number(url.searchParams.get("updated_since"));
        const page = Number(url.searchParams.get("page"));
        const size = Math.min(7, Number(url.searchParams.get("page_size")));
        const all = this.tickets.filter((t) => Date.parse(t.updated_at) > since);
        const slice = all.slice((page - 1) * size, page * size);
        return json(200, { tickets: slice, next_page: page * size < all.length ? page + 1 : null });
      }
      json(404, { error: "not found" });
    });
    await new Promise<void>((r) => this.server!.listen(0, "127.0.0.1", r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/api`;
  }

  stop(): void {
    this.server?.close();
  }
}

const api = new TicketsServer();
beforeAll(() => api.start());
afterAll(() => api.stop());

const config = () => ({ api_url: api.url, token: TOKEN, page_size: 5 });
const bindings = [airbyteBinding("projects", { syncMode: "full_refresh" }), airbyteBinding("tickets", { cursorField: ["updated_at"] })];

/** The two ways to run the source, each answering one Flow exchange (a list of requests). */
const runners = {
  async cli(requests: object[]) {
    const run = spawnConnector(CLI);
    for (const r of requests) run.send(r);
    if (!requests.some((r) => "open" in r)) run.end();
    const { code } = await run.exit;
    run.end();
    return { code, out: run.stdout.json, logs: run.logs(), stderr: run.stderr.lines.join("\n") };
  },
  async inProcess(requests: object[]) {
    const run = serveInProcess(createAirbyteConnector(farosSource(createSource(), { label: "source-faros-example" })));
    for (const r of requests) run.send(r);
    if (!requests.some((r) => "open" in r)) run.end();
    const code = await run.exitCode;
    run.end();
    return { code, out: run.stdout.json, logs: run.logs(), stderr: run.stderr.lines.join("\n") };
  },
};

describe("source-faros-example, captured through its own CLI and in-process, alike", () => {
  const results: Record<string, { spec: Json; discovered: Json; first: ReducedSession; second: ReducedSession }> = {};

  it.each(Object.keys(runners) as (keyof typeof runners)[])("%s: spec, discover, a failed check, and an incremental capture that resumes", async (how) => {
    api.tickets = [];
    api.add(12);
    const run = runners[how];
    const spec = await run([INTERNAL_SPEC]);
    expect(spec.code).toBe(0);
    const specBody = (spec.out[0] as { spec: Json }).spec;
    // The spec as the CDK's own CLI prints it, common properties included.
    expect(Object.keys((specBody.configSchema as { properties: Json }).properties)).toEqual(expect.arrayContaining(["api_url", "token", "page_size", "max_stream_failures", "debug"]));

    const discovered = await run([INTERNAL_SPEC, { discover: { connectorType: "LOCAL", config: config() } }]);
    expect(discovered.code).toBe(0);
    const found = (discovered.out[1] as { discovered: Json }).discovered;
    expect((found.bindings as Json[]).map(({ documentSchema: _s, ...b }) => b)).toEqual([
      { recommendedName: "projects", resourceConfig: { stream: "projects", syncMode: "full_refresh" }, key: ["/id"], resourcePath: ["projects"] },
      { recommendedName: "tickets", resourceConfig: { stream: "tickets", syncMode: "incremental", cursorField: ["updated_at"] }, key: ["/id"], resourcePath: ["tickets"] },
    ]);

    const badToken = await run([
      INTERNAL_SPEC,
      { validate: { name: "acmeCo/x", connectorType: "LOCAL", config: { ...config(), token: "wrong-token" }, bindings: [{ resourceConfig: bindings[1]!.resourceConfig, collection: bindings[1]!.collection, backfill: 0 }] } },
    ]);
    expect(badToken.code).toBe(1);
    expect(badToken.logs.at(-1)?.message).toBe("the source's connection check failed: cannot reach the tickets API: GET /me answered 401: invalid token");

    const open1 = await run([INTERNAL_SPEC, openRequest(config(), bindings)]);
    expect(open1.code, open1.stderr).toBe(0);
    const first = reduceSession(open1.out);
    expect(first.docs.filter((d) => d.binding === 0).map((d) => d.doc.name)).toEqual(["Website", "Mobile"]);
    expect(first.docs.filter((d) => d.binding === 1).map((d) => d.doc.id)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    // The CDK's gzip+base64 LEGACY state is kept decoded, under each stream's state key.
    expect((first.state.bindingStateV1 as Json).tickets).toEqual({ legacy: { cutoff: Date.UTC(2024, 0, 1, 0, 0, 12) }, rowId: 12 });
    expect(open1.stderr).not.toContain(TOKEN);

    api.add(3);
    const open2 = await run([INTERNAL_SPEC, openRequest(config(), bindings, first.state)]);
    expect(open2.code, open2.stderr).toBe(0);
    const second = reduceSession(open2.out, first.state);
    expect(second.docs.filter((d) => d.binding === 1).map((d) => [d.doc.id, d.doc._meta])).toEqual([
      [13, { op: "u", row_id: 12 }],
      [14, { op: "u", row_id: 13 }],
      [15, { op: "u", row_id: 14 }],
    ]);
    results[how] = { spec: specBody, discovered: found, first, second };
  });

  it("gives the same spec, bindings, documents and state either way", () => {
    // The CDK's CLI runner writes one more STATE at its end (a batch of its logs, with the same
    // state): one more checkpoint, nothing else.
    const { first: f1, second: s1, ...inProcess } = results.inProcess!;
    const { first: f2, second: s2, ...cli } = results.cli!;
    expect(inProcess).toEqual(cli);
    for (const [a, b] of [
      [f1, f2],
      [s1, s2],
    ] as const) {
      expect(a.docs).toEqual(b.docs);
      expect(a.state).toEqual(b.state);
      expect(b.checkpoints).toBe(a.checkpoints + 1);
    }
  });

  it("runs as a Flow connector on its own (dist/connectors/source-faros-example/src/flow.js)", async () => {
    api.tickets = [];
    api.add(4);
    const run = spawnConnector(FLOW_MAIN);
    run.send(INTERNAL_SPEC);
    run.send(openRequest(config(), bindings));
    const { code } = await run.exit;
    run.end();
    expect(code, run.stderr.lines.join("\n")).toBe(0);
    expect(reduceSession(run.stdout.json).docs.map((d) => d.doc.name ?? d.doc.id)).toEqual(["Website", "Mobile", 1, 2, 3, 4]);
    // The CDK's console output went to the logs, not to the protocol.
    expect(run.logs().some((l) => l.message === "Syncing ExampleSource")).toBe(true);
  });
});

describe("source-faros-example, killed at random moments and resumed", () => {
  it("loses no ticket and never moves its state back (flowcap check's crash check)", async () => {
    api.tickets = [];
    api.add(120);
    const dir = tmpDir("faros-crash");
    writeFileSync(
      `${dir}/flow.yaml`,
      JSON.stringify({
        captures: {
          "acmeCo/tickets": {
            endpoint: { local: { command: FLOW_MAIN, config: config() } },
            bindings: [
              { resource: bindings[0]!.resourceConfig, target: "acmeCo/projects" },
              { resource: bindings[1]!.resourceConfig, target: "acmeCo/tickets" },
            ],
          },
        },
        collections: { "acmeCo/projects": { schema: projectSchema, key: ["/id"] }, "acmeCo/tickets": { schema: ticketSchema, key: ["/id"] } },
      }),
    );
    const catalog = await loadCatalog(`${dir}/flow.yaml`);
    const results = await runChecks(catalog, selectCapture(catalog), { only: ["crash"], crash: { seed: 42 }, run: { logLevel: "warn" } });
    const crash = results.find((r) => r.id === "crash")!;
    expect(results.filter((r) => r.status !== "pass"), crash.detail).toEqual([]);
    expect(crash.detail).toMatch(/^4 trial\(s\) \(seed 42\), \d+ kill\(s\)/);
  }, 180_000);
});
