// What the host harness does with catalogs and connector answers, as Flow does: empty lists,
// discovered keys, sops-encrypted configs, configUpdate events, and discover's edits.
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "../helpers/fixtures.js";
import { runFlowcap, scriptedCatalog, tempTree } from "../helpers/cli.js";

const COUNTER = path.join(repoRoot, "test/fixtures/connectors/python/counter.py");
const SCRIPTED = path.join(repoRoot, "test/fixtures/connectors/python/scripted.py");
const DOC_SCHEMA = { type: "object", properties: { id: { type: "integer" } }, required: ["id"] };
const binding = (name: string, key: string[], schema: unknown = DOC_SCHEMA) => ({ recommendedName: name, resourceConfig: { name }, documentSchema: schema, key });

describe("empty lists, as Flow's encoder writes them", () => {
  it("reads {\"discovered\":{}} as a discovery of no bindings", async () => {
    const source = scriptedCatalog({ discovered: '{"discovered":{}}' }, { bindings: [] });
    const raw = await runFlowcap(["discover", "--source", source, "--emit-raw"]);
    expect(raw.code, raw.stderr).toBe(0);
    expect(raw.stdout).toBe("");
    const update = await runFlowcap(["discover", "--source", source]);
    expect(update.code, update.stderr).toBe(0);
    expect(update.stderr).toMatch(/discovered 0 binding\(s\) for acmeCo\/scripted: 0 added, 0 already bound/);
  });

  it("reads {\"validated\":{}} as the answer to a validate of no bindings, and says what a preview of no bindings needs", async () => {
    const source = scriptedCatalog({ validated: '{"validated":{}}' }, { bindings: [] });
    const validate = await runFlowcap(["validate", "--source", source]);
    expect(validate.code, validate.stderr).toBe(0);
    expect(validate.stdout).toBe("");
    const preview = await runFlowcap(["preview", "--source", source]);
    expect(preview.code).toBe(1);
    expect(preview.stderr).toMatch(/^flowcap: capture acmeCo\/scripted has no bindings, so a preview would capture nothing: add them with `flowcap discover --source .*flow\.yaml`\n$/);
    const disabled = await runFlowcap(["preview", "--source", scriptedCatalog({}, { bindings: [{ resource: { name: "things" }, target: "acmeCo/things", disable: true }] })]);
    expect(disabled.code).toBe(1);
    expect(disabled.stderr).toMatch(/has no enabled bindings, .* or remove `disable: true` from one/);
  });
});

describe("discovered keys", () => {
  it("refuses a key that is not a required location of the discovered schema, as Flow refuses such a collection", async () => {
    const discovered = JSON.stringify({ discovered: { bindings: [binding("things", ["/id"]), binding("others", ["/nope"])] } });
    const source = scriptedCatalog({ discovered }, { bindings: [] });
    const run = await runFlowcap(["discover", "--source", source]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/protocol violation \[discovered-keys\]: stdout line 2: discovered.bindings\[1\] \(others\): key \/nope is not a location the document schema knows/);
    const optional = JSON.stringify({ discovered: { bindings: [binding("things", ["/id"], { type: "object", properties: { id: { type: "integer" } } })] } });
    const notRequired = await runFlowcap(["discover", "--source", scriptedCatalog({ discovered: optional }, { bindings: [] }), "--emit-raw"]);
    expect(notRequired.code).toBe(1);
    expect(notRequired.stderr).toMatch(/key \/id is not required to exist by the document schema/);
  });
});

describe("discover keeps what the user wrote", () => {
  it("leaves every line it did not change byte for byte (flow lists, comment spacing, blank lines), and warns of a typo under endpoint.local", async () => {
    const discovered = JSON.stringify({ discovered: { bindings: [binding("things", ["/id"]), binding("others", ["/id"])] } });
    const dir = tempTree();
    const catalog = [
      "# A hand-written catalog: every line here must survive discover.",
      "import:",
      "  - acmeCo/flow.yaml   # collections",
      "",
      "captures:",
      "  acmeCo/scripted:",
      "    endpoint:",
      "      local:",
      `        command: [python3, ${JSON.stringify(SCRIPTED)}]`,
      `        config: {"discovered": ${JSON.stringify(discovered)}}`,
      "        evn: {LOG_FORMAT: json}",
      "    interval: 5m",
      "",
      "    bindings:",
      "      - resource: {name: things}",
      "        target: acmeCo/things   # the main one",
      "    shards: {logLevel: info}",
      "",
    ].join("\n");
    const collections = ["collections:", "  acmeCo/things:", "    schema: things.schema.yaml", "    key: [/id]", "    # projections kept", "    projections: {when: /ts}", ""].join("\n");
    writeFileSync(path.join(dir, "flow.yaml"), catalog);
    mkdirSync(path.join(dir, "acmeCo"));
    writeFileSync(path.join(dir, "acmeCo/flow.yaml"), collections);
    writeFileSync(path.join(dir, "acmeCo/things.schema.yaml"), "type: object\n");
    const run = await runFlowcap(["discover", "--source", "flow.yaml"], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/flowcap: warning: flow\.yaml:11:14: captures\.acmeCo\/scripted\.endpoint\.local\.evn: unknown key, ignored \(endpoint\.local takes command, config, env, protobuf\)/);
    // Every line of each file is still there, in order; only the new binding and collection are added.
    const added = (before: string, after: string) => {
      const rest = [...after.split("\n")];
      for (const line of before.split("\n")) {
        const at = rest.indexOf(line);
        expect(at, `line ${JSON.stringify(line)} is gone`).toBeGreaterThanOrEqual(0);
        rest.splice(0, at + 1);
      }
      return after.split("\n").filter((l) => !before.split("\n").includes(l));
    };
    expect(added(catalog, readFileSync(path.join(dir, "flow.yaml"), "utf8"))).toEqual(["      - resource:", "          name: others", "        target: acmeCo/others"]);
    expect(added(collections, readFileSync(path.join(dir, "acmeCo/flow.yaml"), "utf8"))).toEqual(["  acmeCo/others:", "    schema: others.schema.yaml", "    key:", "      - /id"]);
  });
});

describe("sops-encrypted configs (Estuary's convention for test credentials)", () => {
  const encrypted = [
    "greeting_sops: ENC[AES256_GCM,data:aGVsbG8=,iv:x,tag:y,type:str]",
    "interval_ms: 20",
    "sops:",
    "  encrypted_suffix: _sops",
    "  mac: ENC[AES256_GCM,data:bWFj,iv:x,tag:y,type:str]",
    "  version: 3.9.0",
    "",
  ].join("\n");
  const catalog = () => {
    const dir = tempTree({ "config.yaml": encrypted });
    writeFileSync(
      path.join(dir, "flow.yaml"),
      JSON.stringify({
        captures: { "acmeCo/counter": { endpoint: { local: { command: ["python3", COUNTER], config: "config.yaml" } }, bindings: [{ resource: { name: "counter" }, target: "acmeCo/counter" }] } },
        collections: { "acmeCo/counter": { schema: { type: "object", properties: { n: { type: "integer" } }, required: ["n"] }, key: ["/n"] } },
      }),
    );
    return dir;
  };

  it("decrypts them with sops when it is on PATH, stripping the encrypted suffix as Flow's runtime does", async () => {
    const dir = catalog();
    const bin = path.join(dir, "bin");
    mkdirSync(bin);
    // A stand-in for sops: what `sops --decrypt --output-type json config.yaml` prints.
    writeFileSync(
      path.join(bin, "sops"),
      `#!/bin/sh\n[ "$1" = "--decrypt" ] && [ "$2" = "--output-type" ] && [ "$3" = json ] && [ "$4" = "${path.join(dir, "config.yaml")}" ] || { echo "unexpected: $*" >&2; exit 2; }\necho '{"greeting_sops": "hola", "interval_ms": 20}'\n`,
    );
    chmodSync(path.join(bin, "sops"), 0o755);
    const run = await runFlowcap(["preview", "--source", "flow.yaml", "--sessions", "1"], { cwd: dir, env: { PATH: `${bin}:${process.env.PATH}` } });
    expect(run.code, run.stderr).toBe(0);
    expect((run.json[0] as [string, { greeting: string }])[1].greeting).toBe("hola #1");
  });

  it("says what to do when sops is not on PATH", async () => {
    const dir = catalog();
    const run = await runFlowcap(["spec", "--source", "flow.yaml"], { cwd: dir, env: { PATH: path.join(dir, "nothing-here") } });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^flowcap: config\.yaml is sops-encrypted \(Estuary's convention for test credentials\), but `sops` is not on PATH: install sops \(https:\/\/github\.com\/getsops\/sops\/releases\)/);
  });
});

describe("configUpdate events (a rotated refresh token)", () => {
  interface Provider {
    server: Server;
    base: string;
    refreshes: string[];
  }
  let provider: Provider;

  async function body(req: IncomingMessage): Promise<string> {
    let text = "";
    for await (const chunk of req) text += chunk;
    return text;
  }

  beforeAll(async () => {
    // A provider that rotates refresh tokens as strict ones do: each works once.
    const refreshes: string[] = [];
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
        if (url.pathname === "/v1/items") {
          if (!issued.has((req.headers.authorization ?? "").replace(/^Bearer /, ""))) return send(401, { error: "unauthorized" });
          const after = Number(url.searchParams.get("after") ?? 0);
          return send(200, { results: [{ id: after + 1 }, { id: after + 2 }], next: after + 2 });
        }
        send(404, {});
      })();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    provider = { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, refreshes };
  });

  afterAll(() => provider.server.close());

  it("applies the connector's updated config to the next session, through a local stand-in for Flow's encryption service, and saves it", async () => {
    const config = [
      "# test credentials (keep this comment)",
      "api: " + provider.base,
      "credentials:",
      "  credentials_title: OAuth Credentials",
      "  client_id: my-client",
      "  client_secret: my-secret",
      "  refresh_token: refresh-0",
      "",
    ].join("\n");
    const dir = tempTree({ "config.yaml": config });
    writeFileSync(
      path.join(dir, "flow.yaml"),
      JSON.stringify({
        captures: {
          "acmeCo/rotating": {
            endpoint: { local: { command: ["node", path.join(repoRoot, "test/fixtures/connectors/oauth-rotating/main.mjs")], config: "config.yaml" } },
            bindings: [{ resource: { name: "items" }, target: "acmeCo/items" }],
          },
        },
        collections: { "acmeCo/items": { schema: { type: "object", properties: { id: { type: "integer" } }, required: ["id"] }, key: ["/id"] } },
      }),
    );
    const run = await runFlowcap(["preview", "--source", "flow.yaml", "--sessions", "1,1"], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    // Each session refreshed with the token the one before it was given.
    expect(provider.refreshes).toEqual(["refresh-0", "refresh-1"]);
    expect((run.json as [string, { id: number }][]).map(([, d]) => d.id)).toEqual([1, 2, 3, 4]);
    expect(run.stderr).toMatch(/the connector updated its endpoint config \(configUpdate\): the next sessions use it, and it was saved to config\.yaml/);
    // No token reaches the terminal: the event carries the stand-in's handles.
    expect(run.stderr).not.toMatch(/refresh-[12]|access-[12]/);
    const saved = readFileSync(path.join(dir, "config.yaml"), "utf8");
    expect(saved).toBe(config.replace("refresh_token: refresh-0", "refresh_token: refresh-2"));

    // So the next run starts from the token the provider issued last.
    const again = await runFlowcap(["preview", "--source", "flow.yaml", "--sessions", "1"], { cwd: dir });
    expect(again.code, again.stderr).toBe(0);
    expect(provider.refreshes).toEqual(["refresh-0", "refresh-1", "refresh-2"]);
  }, 120_000);
});
