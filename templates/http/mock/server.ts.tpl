#!/usr/bin/env node
/**
 * A stand-in for the API on 127.0.0.1, served by flowcap/testing's fixture server, so the
 * connector runs and is tested offline: GET /v1/<% resource %> lists <% resource %> sorted by `updated_at`
 * then `id`, filtered by `updated_since` (inclusive) and `updated_before` (exclusive), `limit` at
 * a time, the next page at `?cursor=` (a keyset cursor: records that change during a pagination
 * are neither skipped nor shifted)<%#oauth2%>, and POST /oauth/token issues access tokens for the refresh
 * token in test.flow.yaml (handing the same one back, so it keeps working from run to run)<%/oauth2%>.
 * Requests without the credentials of test.flow.yaml get HTTP 401.
 *
 *   node dist/mock/server.js                    serve on MOCK_PORT until Ctrl-C
 *   node dist/mock/server.js -- <command ...>   serve while the command runs, exit with its status
 *
 * Run as a script, it changes a record every 2 seconds, so `npm start` shows changes arriving.
 */
import { spawn } from "node:child_process";
import { pathToFileURL } from "node:url";
import { startHttpFixtureServer, type FixtureRequest, type FixtureResponse, type HttpFixtureServer } from "flowcap/testing";

/** The port test.flow.yaml points at. */
export const MOCK_PORT = Number(process.env.MOCK_PORT ?? 18765);

/** The endpoint config of test.flow.yaml, less the URLs: the credentials the mock accepts. */
export const MOCK_CONFIG = {
<%#apiKey%>
  api_key: "demo-api-key-3c9f1e",
<%/apiKey%>
<%#bearer%>
  access_token: "demo-access-token-3c9f1e",
<%/bearer%>
<%#basic%>
  username: "demo-user",
  password: "demo-password-3c9f1e",
<%/basic%>
<%#oauth2%>
  credentials: {
    credentials_title: "OAuth Credentials",
    client_id: "demo-client",
    client_secret: "demo-secret-3c9f1e",
    refresh_token: "demo-refresh-token-3c9f1e",
  },
<%/oauth2%>
};

/** The secret values of MOCK_CONFIG (and their encodings on the wire), which must never appear in a log line. */
<%#apiKey%>
export const MOCK_SECRETS = [MOCK_CONFIG.api_key];
<%/apiKey%>
<%#bearer%>
export const MOCK_SECRETS = [MOCK_CONFIG.access_token];
<%/bearer%>
<%#basic%>
export const MOCK_SECRETS = [MOCK_CONFIG.password, Buffer.from(`${MOCK_CONFIG.username}:${MOCK_CONFIG.password}`).toString("base64")];
<%/basic%>
<%#oauth2%>
export const MOCK_SECRETS = [MOCK_CONFIG.credentials.client_secret, MOCK_CONFIG.credentials.refresh_token];
<%/oauth2%>

/** How many records the mock starts with: three pages. */
export const MOCK_RECORDS = 250;

/** A record of the mock API. */
export interface Mock<% resourceType %> {
  id: string;
  updated_at: string;
  name: string;
}

/** The running mock API. */
export interface MockApi {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** The endpoint config for this mock: MOCK_CONFIG with its URLs. */
  readonly config: Record<string, unknown>;
  /** The fixture server (its request log, injected failures, rate limits). */
  readonly server: HttpFixtureServer;
  /** The current records, by id. */
  readonly records: Map<string, Mock<% resourceType %>>;
  /** Adds a record, updated now. */
  create(): Mock<% resourceType %>;
  /** Changes a record: a new name, updated now. */
  update(id: string): Mock<% resourceType %>;
  /** Stops the server. */
  close(): Promise<void>;
}

/** Starts the mock API on `port` (0: any free port), with MOCK_RECORDS records updated in January 2026. */
export async function startMockApi(port = MOCK_PORT): Promise<MockApi> {
  const records = new Map<string, Mock<% resourceType %>>();
  let lastMs = 0;
  /** Now, never before the last stamp: like a real API's clock, several records may share one. */
  const stamp = () => new Date((lastMs = Math.max(lastMs, Date.now()))).toISOString();
  const add = (updatedAt: string) => {
    const id = `<% resource %>-${String(records.size + 1).padStart(5, "0")}`;
    const record = { id, updated_at: updatedAt, name: `<% resource %> ${records.size + 1}` };
    records.set(id, record);
    return record;
  };
  for (let i = 0; i < MOCK_RECORDS; i++) add(new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString());

  const server = await startHttpFixtureServer({ port });
<%#oauth2%>
  const issued = new Set<string>();
  server.route("POST", "/oauth/token", (req) => {
    const form = new URLSearchParams(req.body);
    const { client_id, client_secret, refresh_token } = MOCK_CONFIG.credentials;
    if (form.get("grant_type") !== "refresh_token" || form.get("client_id") !== client_id || form.get("client_secret") !== client_secret) return { status: 401, json: { error: "invalid_client" } };
    if (form.get("refresh_token") !== refresh_token) return { status: 400, json: { error: "invalid_grant" } };
    const token = `access-${issued.size + 1}`;
    issued.add(token);
    return { json: { access_token: token, token_type: "Bearer", expires_in: 3600, refresh_token } };
  });
  const authorized = (req: FixtureRequest) => issued.has(String(req.headers.authorization).replace(/^Bearer /, ""));
<%/oauth2%>
<%#apiKey%>
  const authorized = (req: FixtureRequest) => req.headers["x-api-key"] === MOCK_CONFIG.api_key;
<%/apiKey%>
<%#bearer%>
  const authorized = (req: FixtureRequest) => req.headers.authorization === `Bearer ${MOCK_CONFIG.access_token}`;
<%/bearer%>
<%#basic%>
  const basic = Buffer.from(`${MOCK_CONFIG.username}:${MOCK_CONFIG.password}`).toString("base64");
  const authorized = (req: FixtureRequest) => req.headers.authorization === `Basic ${basic}`;
<%/basic%>
  server.route("GET", "/v1/<% resource %>", (req) => (authorized(req) ? listPage(req, records) : { status: 401, json: { error: "unauthorized" } }));

  return {
    url: server.url,
<%#oauth2%>
    config: { ...MOCK_CONFIG, base_url: server.url, token_url: `${server.url}/oauth/token` },
<%/oauth2%>
<%^oauth2%>
    config: { ...MOCK_CONFIG, base_url: server.url },
<%/oauth2%>
    server,
    records,
    create: () => add(stamp()),
    update(id) {
      const record = records.get(id);
      if (!record) throw new Error(`no record ${id}`);
      const changed = { ...record, name: `${record.name}, changed`, updated_at: stamp() };
      records.set(id, changed);
      return changed;
    },
    close: () => server.close(),
  };
}

/** Where a record sorts: by `updated_at`, then by `id`. */
const sortKey = (r: Mock<% resourceType %>) => `${r.updated_at} ${r.id}`;

/** One page of GET /v1/<% resource %>. */
function listPage(req: FixtureRequest, records: Map<string, Mock<% resourceType %>>): FixtureResponse {
  const since = req.query.get("updated_since");
  const before = req.query.get("updated_before");
  const limit = Number(req.query.get("limit") ?? 50);
  const cursor = req.query.get("cursor");
  if ((since && Number.isNaN(Date.parse(since))) || (before && Number.isNaN(Date.parse(before)))) return { status: 400, json: { error: "updated_since and updated_before are RFC 3339 times" } };
  if (!(Number.isInteger(limit) && limit >= 1 && limit <= 100)) return { status: 400, json: { error: "limit is 1 to 100" } };
  const after = cursor ? Buffer.from(cursor, "base64url").toString("utf8") : "";
  const selected = [...records.values()]
    .filter((r) => (!since || Date.parse(r.updated_at) >= Date.parse(since)) && (!before || Date.parse(r.updated_at) < Date.parse(before)) && sortKey(r) > after)
    .sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : 1));
  const data = selected.slice(0, limit);
  const more = selected.length > limit;
  return { json: { data, next_cursor: more ? Buffer.from(sortKey(data.at(-1)!)).toString("base64url") : null } };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const mock = await startMockApi();
  const changes = setInterval(() => {
    const ids = [...mock.records.keys()];
    if (Math.random() < 0.3) mock.create();
    else mock.update(ids[Math.floor(Math.random() * ids.length)]!);
  }, 2_000);
  const dash = process.argv.indexOf("--");
  if (dash < 0) {
    process.stderr.write(`mock API on ${mock.url} (Ctrl-C to stop)\n`);
  } else {
    const [command, ...args] = process.argv.slice(dash + 1);
    const child = spawn(command!, args, { stdio: "inherit", shell: process.platform === "win32" });
    child.on("exit", (code, signal) => {
      clearInterval(changes);
      void mock.close().then(() => process.exit(code ?? (signal ? 1 : 0)));
    });
    process.on("SIGINT", () => child.kill("SIGINT"));
  }
}
