import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "../../../test/helpers/fixtures.js";
import { startPostgres, type PostgresCluster } from "../../../test/helpers/postgres.js";
import { createPublication, endpointConfig, startCluster, unary } from "./harness.js";

/**
 * validate names every prerequisite that fails, each with the SQL that fixes it, in one message
 * (Estuary's `prerequisites.go` checks, in its order); the config is parsed as strictly as
 * Estuary's.
 */

let pg: PostgresCluster;
let replicaOnly: PostgresCluster;
beforeAll(async () => {
  [pg, replicaOnly] = await Promise.all([startCluster(), startPostgres({ settings: { wal_level: "replica" } })]);
  await pg.sql(`CREATE TABLE test.things (id int PRIMARY KEY, name text)`);
  await pg.sql(`CREATE TABLE test.secret (id int PRIMARY KEY)`);
  await createPublication(pg, "flow_publication", ["test.things"]);
  // A user with nothing granted: no REPLICATION, no SELECT, no watermarks table.
  await pg.sql(`CREATE USER nobody_much WITH PASSWORD 'pw'`);
});
afterAll(async () => {
  await Promise.all([pg?.stop(), replicaOnly?.stop()]);
});

const binding = (namespace: string, stream: string, key = ["/id"]) => ({
  resourceConfig: { namespace, stream },
  collection: { name: `acmeCo/${namespace}/${stream}`, key, writeSchema: { type: "object" } },
  backfill: 0,
});

async function validate(config: Record<string, unknown>, bindings = [binding("test", "things")]) {
  return unary({ validate: { name: "acmeCo/source-postgres", connectorType: "LOCAL", config, bindings } });
}

describe("source-postgres validate", () => {
  it("passes a database set up as the README says, naming each binding's resource path", async () => {
    const { response, error } = await validate(endpointConfig(pg));
    expect(error).toBeUndefined();
    expect(response).toEqual({ validated: { bindings: [{ resourcePath: ["test", "things"] }] } });
  });

  it("names logical replication being off, with the fix", async () => {
    const { error } = await validate({ ...endpointConfig(replicaOnly), user: "postgres", credentials: { auth_type: "UserPassword", password: "postgres" } });
    expect(error).toContain(`logical replication isn't enabled: current wal_level = "replica"`);
    expect(error).toContain("ALTER SYSTEM SET wal_level = logical;");
  });

  it("names every failing prerequisite of an unprivileged user at once, each with the SQL that fixes it", async () => {
    const config = { ...endpointConfig(pg, { publicationName: "flow_publication", watermarksTable: "test.flow_watermarks" }), user: "nobody_much", credentials: { auth_type: "UserPassword", password: "pw" } };
    const { error, code } = await validate(config, [binding("test", "things"), binding("test", "secret")]);
    expect(code).toBe(1);
    expect(error).toMatch(/^the capture cannot run due to the following error\(s\):\n - /);
    expect(error).toContain(`user "nobody_much" must have the REPLICATION role (or 'rds_replication' on RDS); fix: ALTER ROLE "nobody_much" WITH REPLICATION;`);
    expect(error).toContain(`user "nobody_much" cannot write to the watermarks table "test.flow_watermarks"; fix: CREATE TABLE IF NOT EXISTS test.flow_watermarks (slot TEXT PRIMARY KEY, watermark TEXT); GRANT ALL PRIVILEGES ON TABLE test.flow_watermarks TO "nobody_much";`);
    expect(error).toContain(`user "nobody_much" cannot read from table "test.things"; fix: GRANT SELECT ON TABLE "test"."things" TO "nobody_much";`);
    expect(error).toContain(`user "nobody_much" cannot read from table "test.secret"`);
  });

  it("names a missing publication, and a table not in the publication that the user may not add", async () => {
    const missing = await validate(endpointConfig(pg, { publicationName: "nope" }));
    expect(missing.error).toContain(`publication "nope" does not exist; fix: CREATE PUBLICATION "nope";`);
    // flow_capture does not own test.secret, so it cannot add it to the publication itself.
    const unpublished = await validate(endpointConfig(pg), [binding("test", "secret")]);
    expect(unpublished.error).toContain(`table "test.secret" is not in publication flow_publication and couldn't be added automatically; fix: ALTER PUBLICATION "flow_publication" ADD TABLE "test"."secret";`);
  });

  it("names a slot that belongs to another database", async () => {
    await pg.sql(`CREATE DATABASE other`);
    const other = await pg.connect("other");
    await other.query(`SELECT pg_create_logical_replication_slot('elsewhere', 'pgoutput')`);
    const { error } = await validate(endpointConfig(pg, { slotName: "elsewhere" }));
    expect(error).toContain(`replication slot "elsewhere" exists in database "other", but the configured database is "postgres": consider using a different slot name or removing the existing slot`);
    await other.query(`SELECT pg_drop_replication_slot('elsewhere')`);
  });

  it("says a wrong password is wrong, and a missing database is missing", async () => {
    const wrong = await validate({ ...endpointConfig(pg), credentials: { auth_type: "UserPassword", password: "not-it" } });
    expect(wrong.error).toContain("incorrect username or password");
    expect(wrong.error).not.toContain("not-it");
    const nodb = await validate({ ...endpointConfig(pg), database: "nodb" });
    expect(nodb.error).toContain(`database "nodb" does not exist`);
  });

  it("refuses a binding whose collection has the fallback key in a keyed backfill mode", async () => {
    const { error } = await validate(endpointConfig(pg), [binding("test", "things", ["/_meta/source/loc/0", "/_meta/source/loc/1", "/_meta/source/loc/2"])]);
    expect(error).toContain(`output collection for stream "test.things" has the fallback key, which can't be used for a backfill`);
  });
});

describe("source-postgres config", () => {
  it("refuses unknown keys at any level, naming them, as Estuary's strict parser does", async () => {
    const top = await validate({ ...endpointConfig(pg), sslmode: "disable" });
    expect(top.error).toBe("endpoint config: sslmode: is not a known property");
    const nested = await validate(endpointConfig(pg, { slot_name: "x" }));
    expect(nested.error).toBe("endpoint config: advanced.slot_name: is not a known property");
  });

  it("accepts the legacy top-level password, and refuses what it does not implement instead of ignoring it", async () => {
    const { credentials, ...legacy } = endpointConfig(pg);
    void credentials;
    const ok = await validate({ ...legacy, password: "secret1234" });
    expect(ok.error).toBeUndefined();
    const missing = await validate(legacy);
    expect(missing.error).toContain("missing 'password'");
    const iam = await validate({ ...legacy, credentials: { auth_type: "AWSIAM", aws_region: "us-east-1", aws_role_arn: "arn:x" } });
    expect(iam.error).toContain("AWSIAM authentication is not supported by this connector");
    const wm = await validate(endpointConfig(pg, { watermarksTable: "flow_watermarks" }));
    expect(wm.error).toContain(`invalid 'watermarksTable' configuration: table name "flow_watermarks" must be fully-qualified as "<schema>.<table>"`);
  });
});

describe("source-postgres with flowcap preview", () => {
  it("runs from its test.flow.yaml as the README says: backfill, then changes, across sessions resumed from state", async () => {
    await pg.sql(`CREATE TABLE public.users (id bigint PRIMARY KEY, name text NOT NULL, email text, tags text[], profile jsonb, created_at timestamptz NOT NULL DEFAULT now())`);
    await pg.sql(`INSERT INTO public.users (id, name, email, tags, profile) VALUES (1, 'Ada', 'ada@example.com', '{a,b}', '{"x": 1}'), (2, 'Grace', NULL, '{}', NULL)`);
    await pg.sql(`ALTER PUBLICATION flow_publication ADD TABLE public.users`);
    // The connector's own catalog, pointed at this server and at the built connector.
    const dir = mkdtempSync(path.join(tmpdir(), "flowcap-pg-preview-"));
    const source = path.join(repoRoot, "connectors/source-postgres");
    cpSync(path.join(source, "acmeCo"), path.join(dir, "acmeCo"), { recursive: true });
    const catalog = readFileSync(path.join(source, "test.flow.yaml"), "utf8")
      .replace("localhost:5432", `${pg.host}:${pg.port}`)
      .replace("password: secret", "password: secret1234")
      .replace("../../dist/", `${repoRoot}/dist/`);
    writeFileSync(path.join(dir, "test.flow.yaml"), catalog);
    try {
      // One session each, ended once nothing is left to commit for 15 s (--timeout): preview folds
      // the checkpoints that arrive together into one transaction, as flowctl does, so how many
      // transactions a session makes depends on timing, and a --sessions count could wait for a
      // transaction that never comes.
      const cli = (state: string) =>
        promisify(execFile)(process.execPath, [path.join(repoRoot, "dist/src/cli/main.js"), "preview", "--source", path.join(dir, "test.flow.yaml"), "--sessions", "-1", "--timeout", "15s", "--output-state", "--initial-state", state], { cwd: repoRoot });
      const first = await cli("{}");
      const lines = first.stdout.trim().split("\n").map((l) => JSON.parse(l) as [string, Record<string, unknown>]);
      const docs = lines.filter(([c]) => c === "acmeCo/public/users").map(([, d]) => d);
      expect(docs.map((d) => [d.id, d.name, d.tags])).toEqual([
        [1, "Ada", ["a", "b"]],
        [2, "Grace", []],
      ]);
      const state = lines.at(-1)![1];
      expect(state).toMatchObject({ updated: { bindingStateV1: { "public%2Fusers": { mode: "Active", backfilled: 2 } } } });

      await pg.sql(`UPDATE public.users SET email = 'grace@example.com' WHERE id = 2`);
      const second = await cli(JSON.stringify((state as { updated: unknown }).updated));
      const changes = second.stdout.trim().split("\n").map((l) => JSON.parse(l) as [string, Record<string, unknown>]).filter(([c]) => c === "acmeCo/public/users").map(([, d]) => d);
      expect(changes).toEqual([expect.objectContaining({ id: 2, email: "grace@example.com", _meta: expect.objectContaining({ op: "u" }) })]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
