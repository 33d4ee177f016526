import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface Item {
  id: number;
  v: number;
  updated_at: string;
}

/** A small seeded PRNG (mulberry32): the same seed gives the same run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A loopback "items" API: `GET /changes?since=<ISO>&limit=N` lists items updated at or after
 * `since` (inclusive), oldest first; `GET /items?after=<id>&limit=N` pages through every item
 * by id, with `next` the last id of a full page. Timestamps have millisecond resolution and never
 * go backwards, so several items can share one, as in real APIs. Requests need the API key.
 */
export class ItemsApi {
  readonly items = new Map<number, Item>();
  private lastMs = 0;
  private server: Server | undefined;
  requests = { changes: 0, pages: 0 };

  constructor(readonly apiKey: string) {}

  private stamp(): string {
    this.lastMs = Math.max(this.lastMs, Date.now());
    return new Date(this.lastMs).toISOString();
  }

  create(): Item {
    const id = this.items.size + 1;
    const item = { id, v: 1, updated_at: this.stamp() };
    this.items.set(id, item);
    return item;
  }

  update(id: number): void {
    const item = this.items.get(id)!;
    this.items.set(id, { id, v: item.v + 1, updated_at: this.stamp() });
  }

  async listen(): Promise<string> {
    this.server = createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://localhost");
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(body));
      };
      if (req.headers["x-api-key"] !== this.apiKey) return send(401, { error: "bad api key" });
      const limit = Number(url.searchParams.get("limit") ?? 100);
      if (url.pathname === "/changes") {
        this.requests.changes++;
        const since = Date.parse(url.searchParams.get("since") ?? "");
        if (Number.isNaN(since)) return send(400, { error: "since must be a timestamp" });
        const changed = [...this.items.values()]
          .filter((i) => Date.parse(i.updated_at) >= since)
          .sort((a, b) => a.updated_at.localeCompare(b.updated_at) || a.id - b.id)
          .slice(0, limit);
        return send(200, { items: changed });
      }
      if (url.pathname === "/items") {
        this.requests.pages++;
        const after = Number(url.searchParams.get("after") ?? 0);
        const page: Item[] = [];
        for (let id = after + 1; id <= this.items.size && page.length < limit; id++) page.push(this.items.get(id)!);
        return send(200, { items: page, next: page.length === limit && page.at(-1)!.id < this.items.size ? page.at(-1)!.id : null });
      }
      send(404, { error: "not found" });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}
