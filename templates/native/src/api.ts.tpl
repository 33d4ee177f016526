import type { EndpointConfig, <% resourceType %> } from "./models.js";

/**
 * The source's API. This scaffold serves a deterministic in-memory dataset so that everything runs
 * offline; replace `fetchPage` with real requests (flowcap's `createHttpClient` handles timeouts,
 * retries and rate limits).
 */
export const DATASET_SIZE = 250;

export async function fetchPage(config: EndpointConfig, afterId: number): Promise<<% resourceType %>[]> {
  const records: <% resourceType %>[] = [];
  for (let id = afterId + 1; id <= Math.min(afterId + config.page_size, DATASET_SIZE); id++) {
    records.push({ id, created_at: new Date(Date.UTC(2026, 0, 1) + id * 60_000).toISOString(), name: `<% resource %> ${id}` });
  }
  return records;
}
