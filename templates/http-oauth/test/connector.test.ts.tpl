import type { Server } from "node:http";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCatalog, runChecks, runPreview, runSpec, selectCapture } from "flowcap/host";
import { lintOAuth } from "flowcap/oauth";
// @ts-expect-error: a plain script
import { startMock } from "../mock/server.mjs";

const source = fileURLToPath(new URL("../test.flow.yaml", import.meta.url));
let server: Server;

beforeAll(async () => {
  server = await startMock();
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

// Each test starts the connector several times (the conformance suite, a preview of several
// sessions): on a busy machine that takes longer than vitest's 5 s default.
describe("<% name %>", { timeout: 60_000 }, () => {
  it("declares an oauth2 block that lints clean", async () => {
    const catalog = await loadCatalog(source);
    const spec = await runSpec(selectCapture(catalog));
    expect(lintOAuth(spec).filter((f) => f.severity === "error")).toEqual([]);
    expect(spec.oauth2?.provider).toBe("<% provider %>");
  });

  it("passes flowcap's conformance suite against the mock API", async () => {
    // The suite starts the connector a few dozen times (the crash check kills and resumes it
    // over its trials; `npm run check` runs the default four): a minute or more on a busy machine.
    const catalog = await loadCatalog(source);
    const results = await runChecks(catalog, selectCapture(catalog), { stopGraceMs: 5_000, crash: { trials: 2 } });
    expect(results.filter((r) => r.status === "fail")).toEqual([]);
  }, 240_000);

  it("captures every page once, resuming from its cursor", async () => {
    const catalog = await loadCatalog(source);
    const ids: string[] = [];
    await runPreview(catalog, selectCapture(catalog), {
      sessions: [1, 2],
      reporter: { document: (_collection, doc) => void ids.push(doc.id as string) },
    });
    expect(ids).toEqual(Array.from({ length: 120 }, (_, i) => `item-${String(i + 1).padStart(4, "0")}`));
  });
});
