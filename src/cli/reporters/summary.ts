import type { PreviewStats } from "../../host/index.js";
import { humanBytes } from "../../util/format.js";

/**
 * The closing summary of a preview, for stderr: per binding, the documents committed (and how
 * many the connector wrote, when documents of one key were combined), their bytes, the
 * checkpoints that held them and the rate, then the totals.
 */
export function previewSummary(stats: PreviewStats, sessions: number, nowMs = Date.now()): string {
  const seconds = Math.max(0.001, (nowMs - stats.startedAtMs) / 1000);
  const rate = (docs: number) => `${(docs / seconds).toFixed(docs / seconds >= 100 ? 0 : 1)}/s`;
  const docs = (committed: number, read: number) => (read > committed ? `${committed} (${read} written)` : String(committed));
  const rows = [...stats.bindings.values()].map((b) => [b.label, b.collection, docs(b.documents, b.read), humanBytes(b.bytes), String(b.checkpoints), rate(b.documents)]);
  const read = [...stats.bindings.values()].reduce((n, b) => n + b.read, 0);
  const header = ["binding", "collection", "documents", "bytes", "checkpoints", "rate"];
  const total = ["total", "", docs(stats.documents, read), humanBytes(stats.bytes), String(stats.checkpoints), rate(stats.documents)];
  const table = [header, ...rows, ...(rows.length > 1 ? [total] : [])];
  const widths = header.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
  const numeric = new Set([2, 3, 4, 5]);
  const lines = table.map((r) => "  " + r.map((cell, i) => (numeric.has(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join("  ").trimEnd());
  return [`flowcap: preview done: ${sessions} session(s), ${stats.transactions} transaction(s) in ${seconds.toFixed(1)}s`, ...lines, ""].join("\n");
}
