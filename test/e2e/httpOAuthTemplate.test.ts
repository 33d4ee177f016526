import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { Connector } from "../../src/runtime/index.js";
import { scaffoldConnector } from "../../src/tooling/scaffold.js";
import { tempTree } from "../helpers/cli.js";
import { serveInProcess } from "../helpers/inProcess.js";

/**
 * The http-oauth template's connector, run in this process (its `flowcap` imports are this
 * repository's sources), against a provider that rotates refresh tokens as strict providers do:
 * each refresh token works once, and the refresh answers the next one.
 */

const PAGES = 3;
const PAGE = 10;

interface Provider {
  server: Server;
  base: string;
  /** The refresh tokens presented, in order. */
  refreshes: string[];
  /** The configs sent to be encrypted (a configUpdate each). */
  encrypted: { credentials: { refresh_token: string } }[];
}

async function body(req: IncomingMessage): Promise<string> {
  let text = "";
  for await (const chunk of req) text += chunk;
  return text;
}

async function startProvider(): Promise<Provider> {
  const refreshes: string[] = [];
  const encrypted: Provider["encrypted"] = [];
  let current = "refresh-0";
  const issued = new Set<string>();
  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url!, "http://127.0.0.1");
      const send = (status: number, value: unknown) => res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(value));
      if (url.pathname === "/oauth/token") {
        const form = new URLSearchParams(await body(req));
        refreshes.push(form.get("refresh_token") ?? "");
        if (form.get("refresh_token") !== current) return send(400, { error: "invalid_grant", error_description: "refresh token already used" });
        current = `refresh-${refreshes.length}`;
        const token = `access-${refreshes.length}`;
        issued.add(token);
        return send(200, { access_token: token, token_type: "Bearer", expires_in: 3600, refresh_token: current });
      }
      if (url.pathname === "/encrypt") {
        const { config } = JSON.parse(await body(req)) as { config: Provider["encrypted"][number] };
        encrypted.push(config);
        return send(200, config);
      }
      if (url.pathname === "/v1/items") {
        if (!issued.has((req.headers.authorization ?? "").replace(/^Bearer /, ""))) return send(401, { error: "unauthorized" });
        // The template's API: the backfill's pages (`updated_before`) and, since every item is
        // older than the binding, no changes (`updated_since`).
        if (url.searchParams.has("updated_since")) return send(200, { data: [], next_cursor: null });
        const after = Number(url.searchParams.get("cursor") ?? 0);
        const data = Array.from({ length: PAGE }, (_, i) => ({ id: `item-${after + i + 1}`, updated_at: "2026-01-01T00:00:00Z" }));
        return send(200, { data, next_cursor: after + PAGE < PAGES * PAGE ? String(after + PAGE) : null });
      }
      send(404, { error: "not found" });
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, refreshes, encrypted };
}

let provider: Provider;
let connector: Connector;

beforeAll(async () => {
  provider = await startProvider();
  const { dir } = await scaffoldConnector({ name: "source-rotating", template: "http-oauth", dir: path.join(tempTree(), "source-rotating") });
  connector = ((await import(pathToFileURL(path.join(dir, "src/index.ts")).href)) as { connector: Connector }).connector;
});

afterAll(async () => {
  vi.unstubAllEnvs();
  provider.server.closeAllConnections();
  await new Promise<void>((resolve) => provider.server.close(() => resolve()));
});

const binding = (stateKey: string) => ({
  resourceConfig: { name: "items" },
  resourcePath: ["items"],
  collection: { name: `acmeCo/${stateKey}`, key: ["/id"] },
  stateKey,
});

describe("the http-oauth template", () => {
  it("shares one token source between a session's bindings, so a rotated refresh token does not fail the others", async () => {
    vi.stubEnv("ENCRYPTION_URL", `${provider.base}/encrypt`);
    const run = serveInProcess(connector);
    run.send({ spec: { connectorType: "IMAGE", config: {} } });
    run.send({
      open: {
        capture: {
          name: "acmeCo/source-rotating",
          connectorType: "IMAGE",
          config: {
            base_url: provider.base,
            token_url: `${provider.base}/oauth/token`,
            credentials: { credentials_title: "OAuth Credentials", client_id: "id", client_secret: "secret", refresh_token: "refresh-0" },
          },
          // Two bindings (of the template's one resource): each pages through the API on its own.
          bindings: [binding("items"), binding("items-again")],
        },
        version: "1",
        state: {},
      },
    });
    const captured = (lines: string[]) => lines.filter((l) => l.startsWith('{"captured"')).length;
    const failed = () => run.logs().some((l) => l.level === "error");
    await run.stdout.until((lines) => captured(lines) === 2 * PAGES * PAGE || failed(), 90_000);
    run.end();
    expect(await run.exitCode, run.stderr.lines.join("\n")).toBe(0);
    expect(provider.refreshes).toEqual(["refresh-0"]);
    // The rotated refresh token was saved once, through Flow's configUpdate.
    expect(provider.encrypted.map((c) => c.credentials.refresh_token)).toEqual(["refresh-1"]);
    expect(run.logs().filter((l) => l.fields.eventType === "configUpdate")).toHaveLength(1);
  });
});
