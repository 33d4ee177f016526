import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import type { PreviewStats } from "../../host/index.js";
import { ProgressLine, progressLine } from "./progress.js";

function sink(isTTY: boolean) {
  let text = "";
  const stream = Object.assign(new Writable({ write: (c, _e, cb) => ((text += String(c)), cb()) }), { isTTY, columns: 200 });
  return { stream, text: () => text };
}

const stats = (documents: number): PreviewStats => ({
  session: 1,
  documents,
  bytes: documents * 2048,
  checkpoints: 3,
  transactions: 3,
  startedAtMs: Date.now() - 2000,
  // Two bindings of one collection (two tables into one collection) are counted apart.
  bindings: new Map([
    [0, { label: "public.greetings", collection: "acmeCo/greetings", documents: documents - 2, read: documents - 2, bytes: 0, checkpoints: 3 }],
    [1, { label: "archive.greetings", collection: "acmeCo/greetings", documents: 1, read: 1, bytes: 0, checkpoints: 1 }],
    [2, { label: "other", collection: "acmeCo/other", documents: 1, read: 1, bytes: 0, checkpoints: 1 }],
  ]),
});

describe("progress line", () => {
  it("shows documents, rate, bytes, checkpoints and per-binding counts", () => {
    expect(progressLine(stats(1000), stats(1000).startedAtMs + 2000)).toBe("session 1 · 1000 docs (500/s) · 2.0 MiB · 3 checkpoints · public.greetings 998, archive.greetings 1, other 1");
  });

  it("is drawn in place on a TTY, throttled, and cleared before other output", () => {
    const tty = sink(true);
    const line = new ProgressLine(tty.stream, 10_000);
    line.update(stats(10));
    line.update(stats(20)); // throttled
    expect(tty.text()).toBe(`\r\x1b[2K${progressLine(stats(10))}`.replace(/\(\d+\/s\)/, tty.text().match(/\(\d+\/s\)/)![0]));
    line.clear();
    expect(tty.text().endsWith("\r\x1b[2K")).toBe(true);
  });

  it("writes nothing at all when stderr is not a TTY", () => {
    const pipe = sink(false);
    const line = new ProgressLine(pipe.stream, 0);
    line.update(stats(10));
    line.clear();
    line.finish();
    expect(pipe.text()).toBe("");
  });
});
