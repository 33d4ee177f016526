#!/usr/bin/env node
// A stand-in for the provider on 127.0.0.1, so the connector runs offline: an OAuth2 token
// endpoint (refresh-token grant; it hands the same refresh token back, so the one in
// test.flow.yaml keeps working from session to session) and a paginated /v1/<% resource %> API
// that wants a bearer token.
//
//   node mock/server.mjs                      serve until Ctrl-C
//   node mock/server.mjs -- <command ...>     serve while the command runs, exit with its status
import { spawn } from "node:child_process";
import { createServer } from "node:http";

export const MOCK_PORT = Number(process.env.MOCK_PORT ?? 18765);
const TOTAL = 120;
const PAGE = 50;

export function startMock(port = MOCK_PORT) {
  const issued = new Set();
  let refresh = "demo-refresh-token";
  const server = createServer((req, res) => {
    const url = new URL(req.url, "http://127.0.0.1");
    const send = (status, body) => res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    if (req.method === "POST" && url.pathname === "/oauth/token") {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        const form = new URLSearchParams(body);
        if (form.get("grant_type") !== "refresh_token" || form.get("client_id") !== "demo-client" || form.get("client_secret") !== "demo-secret") return send(401, { error: "invalid_client" });
        if (form.get("refresh_token") !== refresh && form.get("refresh_token") !== "demo-refresh-token") return send(400, { error: "invalid_grant" });
        const token = `access-${issued.size + 1}`;
        issued.add(token);
        send(200, { access_token: token, token_type: "Bearer", expires_in: 3600, refresh_token: refresh });
      });
      return;
    }
    if (req.method === "GET" && url.pathname === "/v1/<% resource %>") {
      const token = (req.headers.authorization ?? "").replace(/^Bearer /, "");
      if (!issued.has(token)) return send(401, { error: "unauthorized" });
      const after = Number(url.searchParams.get("after") ?? 0);
      const end = Math.min(after + PAGE, TOTAL);
      const results = [];
      for (let i = after + 1; i <= end; i++) results.push({ id: `item-${String(i).padStart(4, "0")}`, updated_at: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(), name: `<% resource %> ${i}` });
      return send(200, end < TOTAL ? { results, next: String(end) } : { results });
    }
    send(404, { error: "not found" });
  });
  return new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve(server)));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const server = await startMock();
  const dash = process.argv.indexOf("--");
  if (dash < 0) {
    process.stderr.write(`mock API on http://127.0.0.1:${MOCK_PORT} (Ctrl-C to stop)\n`);
  } else {
    const [command, ...args] = process.argv.slice(dash + 1);
    const child = spawn(command, args, { stdio: "inherit", shell: process.platform === "win32" });
    child.on("exit", (code, signal) => {
      server.close();
      process.exit(code ?? (signal ? 1 : 0));
    });
    process.on("SIGINT", () => child.kill("SIGINT"));
  }
}
