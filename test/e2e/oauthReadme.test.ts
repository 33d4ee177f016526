import { mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lintOAuth, oauth2Providers } from "../../src/oauth/index.js";
import { spawnConnector } from "../helpers/child.js";
import { repoRoot } from "../helpers/fixtures.js";
import { bundleExample, readmeExample, typeErrors } from "../helpers/readme.js";

const workDir = path.join(repoRoot, "test/.tmp/readme-oauth");
const source = path.join(workDir, "main.ts");
const bundle = path.join(workDir, "main.mjs");

/** HubSpot's token endpoint, its contacts API and Estuary's encryption service, stood in for on 127.0.0.1. */
const seen: string[] = [];
const api = createServer((req, res) => {
  let body = "";
  req.on("data", (c) => (body += c));
  req.on("end", () => {
    const url = new URL(req.url!, "http://x");
    seen.push(`${req.method} ${url.pathname}${url.search}`);
    const json = (status: number, value: unknown) => res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(value));
    if (url.pathname === "/oauth/v1/token") {
      const form = Object.fromEntries(new URLSearchParams(body));
      if (form.grant_type !== "refresh_token" || form.refresh_token !== "rt-1" || form.client_id !== "cid" || form.client_secret !== "csecret") return json(400, { error: "invalid_grant" });
      return json(200, { access_token: "at-1", refresh_token: "rt-2", expires_in: 1800, token_type: "bearer" });
    }
    if (url.pathname === "/encrypt") {
      const { config } = JSON.parse(body) as { config: { credentials: Record<string, string> } };
      return json(200, { ...config, credentials: { ...config.credentials, refresh_token: "ENC[rt]", client_secret: "ENC[cs]", client_id: "ENC[ci]" } });
    }
    if (url.pathname === "/crm/v3/objects/contacts") {
      if (req.headers.authorization !== "Bearer at-1") return json(401, { message: "expired" });
      if (!url.searchParams.get("after")) return json(200, { results: [{ id: "1" }, { id: "2" }], paging: { next: { after: "2" } } });
      return json(200, { results: [{ id: "3" }] });
    }
    json(404, {});
  });
});
let base = "";

beforeAll(async () => {
  await new Promise<void>((r) => api.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
  mkdirSync(workDir, { recursive: true });
  writeFileSync(source, readmeExample("oauth-connector"));
  await bundleExample(source, bundle);
});
afterAll(() => new Promise<void>((r) => api.close(() => r())));

/** Sends requests; with `untilCheckpoints`, keeps stdin open until that many checkpoints (EOF stops a capture). */
async function send(requests: object[], untilCheckpoints = 0) {
  const run = spawnConnector([process.execPath, bundle], { env: { ENCRYPTION_URL: `${base}/encrypt` } });
  for (const r of requests) run.send(r);
  await run.stdout.until((lines) => lines.filter((l) => l.startsWith('{"checkpoint"')).length >= untilCheckpoints, 90_000);
  run.end();
  const { code } = await run.exit;
  return { code, out: run.stdout.json, logs: run.logs(), stderr: run.stderr.lines.join("\n") };
}

describe("README's OAuth connector example", () => {
  it("type-checks against the public API under strict settings", () => {
    expect(typeErrors(source)).toEqual([]);
  });

  it("declares HubSpot's oauth2 block and a credentials schema that lint clean", async () => {
    const { code, out } = await send([{ spec: { config: {} } }]);
    expect(code).toBe(0);
    const spec = out[0]!.spec as { oauth2: unknown; configSchema: Record<string, unknown> };
    expect(spec.oauth2).toEqual(oauth2Providers.hubspot({ scopes: ["crm.objects.contacts.read"] }).oauth2);
    expect(lintOAuth(spec as Parameters<typeof lintOAuth>[0])).toEqual([]);
  });

  it("captures with a refreshed token, saving the rotated refresh token first, and logs no secret", async () => {
    const config = { api: base, credentials: { credentials_title: "OAuth Credentials", client_id: "cid", client_secret: "csecret", refresh_token: "rt-1" } };
    const open = {
      open: {
        capture: {
          name: "acmeCo/hubspot",
          config,
          bindings: [{ resourceConfig: { name: "contacts" }, resourcePath: ["contacts"], collection: { name: "acmeCo/contacts", key: ["/id"] }, stateKey: "contacts" }],
        },
        version: "1",
        state: {},
      },
    };
    const { code, out, logs, stderr } = await send([open], 2);
    expect(code).toBe(0);
    expect(out).toEqual([
      { opened: {} },
      { captured: { doc: { id: "1" } } },
      { captured: { doc: { id: "2" } } },
      { checkpoint: { state: { updated: { bindingStateV1: { contacts: { after: "2" } } }, mergePatch: true } } },
      { captured: { doc: { id: "3" } } },
      { checkpoint: { state: { updated: { bindingStateV1: { contacts: { after: "" } } }, mergePatch: true } } },
    ]);
    // Token, then the encrypted config saved, then the API: the rotated token is persisted before use.
    expect(seen.slice(-4)).toEqual(["POST /oauth/v1/token", "POST /encrypt", "GET /crm/v3/objects/contacts?limit=100", "GET /crm/v3/objects/contacts?limit=100&after=2"]);
    const update = logs.find((l) => l.fields.eventType === "configUpdate")!;
    expect((update.fields.config as { credentials: { refresh_token: string } }).credentials.refresh_token).toBe("ENC[rt]");
    for (const secret of ["csecret", "rt-1", "rt-2", "at-1"]) expect(stderr).not.toContain(secret);
  });
});
