import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { ConfigError, createLogger, parseWithSchema } from "flowcap";
import { loadCatalog, runChecks, selectCapture } from "flowcap/host";
import { lintOAuth } from "flowcap/oauth";
import { createConnectorHarness, type HarnessCaptureProgress } from "flowcap/testing";
import { haveSharedFixtures, readFixture, repoRoot } from "../../../test/helpers/fixtures.js";
import { GitHub } from "../src/api.js";
import { connector } from "../src/index.js";
import { configSchema, type Config } from "../src/models.js";
import { commit, item, startFakeGitHub, type FakeGitHub } from "./fakeGitHub.js";

/** The connector's spec, discover output, config and catalog, as a user and Flow's UI meet them. */
const here = path.resolve(fileURLToPath(new URL("..", import.meta.url)));
const TOKEN = "ghp_spec0123456789";
const harness = () => createConnectorHarness(connector, { config: { credentials: { option_title: "PAT Credentials", personal_access_token: TOKEN }, repositories: ["estuary/flow"] } });
const quiet = () => createLogger({ level: "error", stream: new PassThrough() });
const parseConfig = (value: unknown) => parseWithSchema<Config>(configSchema, value, "endpoint config");

describe("source-github's spec and discover", () => {
  it("answers spec and discover as its snapshots say (UPDATE_SNAPSHOTS=1 rewrites them)", async () => {
    const h = harness();
    await h.matchSnapshot(new URL("../snapshots/spec.json", import.meta.url), await h.spec());
    const discovered = await h.discover();
    await h.matchSnapshot(new URL("../snapshots/discover.json", import.meta.url), discovered);
    // The collections test.flow.yaml captures into are what discover says (flowcap discover rewrites them).
    for (const b of discovered) expect(parse(readFileSync(path.join(here, "acmeCo", `${b.recommendedName}.schema.yaml`), "utf8")), b.recommendedName).toEqual(b.documentSchema);
  });

  it("declares Flow's oauth2 block for GitHub, which flowcap oauth lint passes", async () => {
    const spec = await harness().spec();
    expect(spec.oauth2).toMatchObject({ provider: "github", accessTokenUrlTemplate: "https://github.com/login/oauth/access_token" });
    expect(spec.oauth2!.authUrlTemplate).toContain("scope=repo%20read%3Aorg");
    expect(lintOAuth(spec).filter((f) => f.severity !== "waived")).toEqual([]);
  });

  it("discovers each resource with its kind's interval, keys from GitHub's payloads, and commits keyed per repository", async () => {
    const bindings = await harness().discover();
    expect(bindings.map((b) => [b.recommendedName, b.key, b.resourceConfig.interval])).toEqual([
      ["repositories", ["/id"], "PT1H"],
      ["issues", ["/id"], "PT5M"],
      ["pull_requests", ["/id"], "PT5M"],
      ["issue_comments", ["/id"], "PT5M"],
      ["labels", ["/id"], "PT1H"],
      ["releases", ["/id"], "PT15M"],
      ["commits", ["/repository", "/sha"], "PT5M"],
    ]);
  });
});

describe.skipIf(!haveSharedFixtures)("source-github's config, as Airbyte's source-github users have it", () => {
  const airbyte = JSON.parse(readFixture("airbyte/specs/source-github.json")) as {
    connectionSpecification: { properties: Record<string, { type: string; oneOf?: { title: string; required: string[]; properties: Record<string, { const?: string; airbyte_secret?: boolean }> }[] }>; required: string[] };
    advanced_auth: { predicate_key: string[]; predicate_value: string; oauth_config_specification: { complete_oauth_output_specification: { properties: Record<string, { path_in_connector_config: string[] }> } } };
  };
  const ours = configSchema.properties as unknown as Record<string, { type: string; oneOf?: { title: string; required: readonly string[]; properties: Record<string, { const?: string; secret?: boolean }> }[] }>;

  it("has every property of Airbyte's spec, of the same type, and the same two credential forms with the same secrets", () => {
    for (const [name, property] of Object.entries(airbyte.connectionSpecification.properties)) {
      expect(ours[name], `config property ${name}`).toBeDefined();
      expect(ours[name]!.type, `type of ${name}`).toBe(property.type);
    }
    const theirs = airbyte.connectionSpecification.properties.credentials!.oneOf!;
    const mine = ours.credentials!.oneOf!;
    expect(mine.map((b) => [b.title, b.properties.option_title!.const, [...b.required]])).toEqual(theirs.map((b) => [b.title, b.properties.option_title!.const, b.required]));
    for (const [i, branch] of theirs.entries()) {
      const secrets = Object.keys(branch.properties).filter((p) => branch.properties[p]!.airbyte_secret);
      expect(secrets.filter((p) => !mine[i]!.properties[p]?.secret), `secrets of ${branch.title}`).toEqual([]);
    }
    // Airbyte's OAuth flow writes its token where Flow's does (the branch predicate_key selects).
    expect(airbyte.advanced_auth.predicate_key).toEqual(["credentials", "option_title"]);
    expect(airbyte.advanced_auth.oauth_config_specification.complete_oauth_output_specification.properties.access_token!.path_in_connector_config).toEqual(["credentials", "access_token"]);
  });

  it("takes the configs Airbyte's spec describes, its examples and its deprecated strings included", () => {
    const log = quiet();
    const signal = new AbortController().signal;
    const configs = [
      { credentials: { option_title: "OAuth Credentials", access_token: "gho_x", client_id: "id", client_secret: "s" }, repositories: ["airbytehq/airbyte", "airbytehq/another-repo", "airbytehq/*", "airbytehq/a*"] },
      { credentials: { option_title: "PAT Credentials", personal_access_token: "ghp_a,ghp_b" }, repositories: ["airbytehq/airbyte"], start_date: "2021-03-01T00:00:00Z", branches: ["airbytehq/airbyte/master"], max_waiting_time: 10, api_url: "https://github.company.org" },
      { credentials: { personal_access_token: "ghp_a" }, repository: "airbytehq/airbyte airbytehq/another-repo", branch: "airbytehq/airbyte/master airbytehq/airbyte/my-branch", api_url: "https://github.com" },
    ];
    const apis = configs.map((c) => new GitHub(parseConfig(c), log, signal));
    expect(apis.map((a) => a.apiUrl)).toEqual(["https://api.github.com/", "https://github.company.org/api/v3/", "https://api.github.com/"]);
    expect(apis.map((a) => a.pageSize)).toEqual([100, 100, 100]);
  });

  it("refuses what Airbyte's spec refuses, saying where", () => {
    expect(() => parseConfig({ credentials: { personal_access_token: "t" }, repositories: ["airbytehq/airbyte.git"] })).toThrow(/repositories\[0\]/);
    expect(() => parseConfig({ credentials: { personal_access_token: "t" }, repositories: ["x/y"], start_date: "2021-03-01" })).toThrow(/start_date/);
    const noRepos = () => new GitHub(parseConfig({ credentials: { personal_access_token: "t" } }), quiet(), new AbortController().signal);
    expect(noRepos).toThrow(ConfigError);
    expect(noRepos).toThrow(/repositories: is required/);
  });
});

describe("source-github's README", () => {
  it("states the line count of the connector's own code", () => {
    const files = ["main.ts", "src/models.ts", "src/api.ts", "src/resources.ts", "src/index.ts"];
    const lines = files.reduce((n, f) => n + readFileSync(path.join(here, f), "utf8").trimEnd().split("\n").length, 0);
    const readme = readFileSync(path.join(here, "README.md"), "utf8");
    const stated = /its own code is (\d+) lines/i.exec(readme);
    expect(stated, "README.md says 'its own code is N lines'").not.toBeNull();
    expect(Number(stated![1])).toBe(lines);
  });
});

describe("source-github from its test.flow.yaml", () => {
  let fake: FakeGitHub | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await fake?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** test.flow.yaml as the README runs it, pointed at the built connector and at a fake GitHub with one of everything. */
  async function catalogOnFakeGitHub(): Promise<string> {
    const label = { id: 7, node_id: "L7", name: "bug", color: "d73a4a", description: null, default: true };
    fake = await startFakeGitHub({
      "acme/app": {
        id: 1,
        default_branch: "main",
        issues: [item(1, "2025-02-01T00:00:00Z"), item(2, "2025-02-02T00:00:00Z", { state: "closed" })],
        pulls: [item(3, "2025-02-03T00:00:00Z")],
        comments: [{ id: 4, node_id: "IC4", body: "hi", created_at: "2025-02-04T00:00:00Z", updated_at: "2025-02-04T00:00:00Z" }],
        labels: [label],
        releases: [{ id: 5, node_id: "R5", tag_name: "v1", created_at: "2025-02-05T00:00:00Z" }],
        commits: { main: [commit("c1", "2025-02-06T00:00:00Z")] },
      },
    });
    dir = mkdtempSync(path.join(tmpdir(), "flowcap-github-"));
    cpSync(path.join(here, "acmeCo"), path.join(dir, "acmeCo"), { recursive: true });
    const catalog = parse(readFileSync(path.join(here, "test.flow.yaml"), "utf8")) as { captures: Record<string, { endpoint: { local: { command: string[]; config: Record<string, unknown> } } }> };
    const capture = catalog.captures["acmeCo/source-github"]!;
    capture.endpoint.local.command = capture.endpoint.local.command.map((part) => part.replace("../../dist/", `${repoRoot}/dist/`));
    capture.endpoint.local.config = { ...capture.endpoint.local.config, credentials: { option_title: "PAT Credentials", personal_access_token: TOKEN }, repositories: ["acme/app"], api_url: fake.url };
    writeFileSync(path.join(dir, "test.flow.yaml"), stringify(catalog));
    return path.join(dir, "test.flow.yaml");
  }

  it("runs as built, every binding of the catalog, with no credential in any log line", { timeout: 120_000 }, async () => {
    const source = await catalogOnFakeGitHub();
    const logLines: string[] = [];
    const h = createConnectorHarness({ source }, { logLevel: "debug", onLog: (log) => void logLines.push(JSON.stringify(log)) });
    const collections = ["repositories", "issues", "pull_requests", "issue_comments", "labels", "releases", "commits"];
    const done = (p: HarnessCaptureProgress) => {
      const backfills = Object.values((p.state.bindingStateV1 ?? {}) as Record<string, { backfill?: Record<string, unknown> }>).map((s) => Object.keys(s.backfill ?? {}).length);
      const seen = new Set(p.documents.map(([c]) => c));
      return backfills.every((n) => n === 0) && collections.every((c) => seen.has(`acmeCo/${c}`));
    };
    const result = await h.capture({ until: done, timeoutMs: 60_000 });
    const by = (c: string) => result.documents.filter(([col]) => col === `acmeCo/${c}`).map(([, d]) => d);
    expect(by("repositories")).toEqual([expect.objectContaining({ id: 1, full_name: "acme/app" })]);
    expect(by("issues").map((d) => d.id)).toEqual([1, 2]);
    expect(by("pull_requests").map((d) => d.id)).toEqual([3]);
    expect(by("issue_comments").map((d) => d.id)).toEqual([4]);
    expect(by("labels")).toEqual([expect.objectContaining({ id: 7, name: "bug", repository: "acme/app" })]);
    expect(by("releases").map((d) => d.tag_name)).toEqual(["v1"]);
    expect(by("commits")).toEqual([expect.objectContaining({ sha: "c1", repository: "acme/app", branch: "main" })]);
    expect(fake!.server.requests.every((r) => r.headers.authorization === `token ${TOKEN}`)).toBe(true);
    expect(logLines.length).toBeGreaterThan(0);
    expect(logLines.filter((line) => line.includes(TOKEN))).toEqual([]);
    // Nothing reached stderr but through the logger (a Node warning would, and Flow would show it).
    expect(logLines.filter((line) => line.includes('"unstructured":true'))).toEqual([]);
  });

  it("passes flowcap check's checks of a connector: validate, a bad config refused, a session, its resumption, SIGTERM", { timeout: 180_000 }, async () => {
    const catalog = await loadCatalog(await catalogOnFakeGitHub());
    // The checks of the protocol alone (discover, malformed requests, acknowledgements) are the
    // runtime's, tested with it: these are the ones this connector's own code can fail (the
    // spec's feeds invalid-config).
    const only = ["spec", "validate", "invalid-config", "session", "resume", "sigterm"];
    const results = await runChecks(catalog, selectCapture(catalog), { only, stopGraceMs: 10_000, snapshotCollections: ["acmeCo/repositories", "acmeCo/labels", "acmeCo/releases"] });
    expect(results.map((r) => [r.id, r.status])).toEqual(only.map((id) => [id, "pass"]));
  });
});
