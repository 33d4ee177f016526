import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import octokitFixtures, { type RecordedFixture } from "@octokit/fixtures";
import fixtureServerMiddleware from "@octokit/fixtures-server";
import express from "express";

/** The token the recordings were normalized to. */
export const RECORDED_TOKEN = "0000000000000000000000000000000000000001";

/**
 * @octokit/fixtures-server on 127.0.0.1 (a free port), in this process: `load(scenario)` answers
 * the base URL of a fresh copy of a recording of real GitHub traffic, each exchange answered once
 * and in order (nock checks method, path, query and the recorded headers).
 */
export interface OctokitFixtures {
  readonly url: string;
  /** Loads a scenario afresh; its base URL is the connector's `api_url`. */
  load(scenario: string): Promise<string>;
  /** `METHOD /path?query` of every request received, in order. */
  readonly requests: string[];
  close(): Promise<void>;
}

export async function startOctokitFixtures(scenarios: Record<string, RecordedFixture[]>): Promise<OctokitFixtures> {
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  let app: ((req: IncomingMessage, res: import("node:http").ServerResponse) => void) | undefined;
  const server = createServer((req, res) => {
    if (req.url !== "/fixtures") requests.push(`${req.method} ${req.url}`);
    app!(req, res);
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // The middleware rewrites the recorded links (https://api.github.com/...) to fixturesUrl.
  app = express().use(fixtureServerMiddleware({ fixturesUrl: url, logLevel: "silent", ttl: 3_600_000, fixtures: scenarios }));
  return {
    url,
    requests,
    async load(scenario) {
      const response = await fetch(`${url}/fixtures`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ scenario }) });
      const body = (await response.json()) as { url?: string; error?: string };
      if (!body.url) throw new Error(`loading scenario ${scenario}: ${body.error ?? response.status}`);
      return body.url;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}

/** A recorded scenario of api.github.com, as @octokit/fixtures ships it. */
export function recording(name: string): RecordedFixture[] {
  return octokitFixtures.get(`api.github.com/${name}`);
}
