import type { LineBatch } from "../../src/protocol/index.js";

/** Reads a child's stdout to its end as batches of lines: the lines as text, and each batch's line count. */
export async function readAllBatches(child: { lineBatches(): AsyncIterable<LineBatch> }): Promise<{ lines: string[]; batches: number[] }> {
  const lines: string[] = [];
  const batches: number[] = [];
  for await (const batch of child.lineBatches()) {
    batches.push(batch.count);
    for (let k = 0; k < batch.count; k++) lines.push(batch.line(k).toString());
  }
  return { lines, batches };
}
