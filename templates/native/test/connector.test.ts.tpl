import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadCatalog, runChecks, runPreview, selectCapture } from "flowcap/host";

const source = fileURLToPath(new URL("../test.flow.yaml", import.meta.url));

// Each test starts the connector several times (the conformance suite, a preview of several
// sessions): on a busy machine that takes longer than vitest's 5 s default.
describe("<% name %>", { timeout: 120_000 }, () => {
  it("passes flowcap's conformance suite", async () => {
    // The suite starts the connector a few dozen times (the crash check kills and resumes it
    // over its trials; `npm run check` runs the default four): a minute or more on a busy machine.
    const catalog = await loadCatalog(source);
    const results = await runChecks(catalog, selectCapture(catalog), { stopGraceMs: 5_000, crash: { trials: 2 } });
    expect(results.filter((r) => r.status === "fail")).toEqual([]);
  }, 240_000);

  it("captures every record once across sessions, resuming from its state", async () => {
    const catalog = await loadCatalog(source);
    const ids: number[] = [];
    await runPreview(catalog, selectCapture(catalog), {
      sessions: [2, 3],
      reporter: { document: (_collection, doc) => void ids.push(doc.id as number) },
    });
    expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => i + 1));
    expect(ids.length).toBe(5 * 50);
  });
});
