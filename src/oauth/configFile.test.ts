import { mkdtempSync, readFileSync, statSync, writeFileSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { writeCredentialsToFile } from "./configFile.js";
import { buildCredentials, maskCredentials } from "./credentials.js";
import { oauth2Providers } from "./providers/presets.js";
import { accessTokenCredentialsSchema, credentialsSchema } from "./spec.js";

const dir = mkdtempSync(path.join(tmpdir(), "flowcap-config-"));
const file = (name: string, text: string) => {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
};
const creds = { credentials_title: "OAuth Credentials", refresh_token: "rt-new", client_id: "cid", client_secret: "csec" };

describe("writeCredentialsToFile", () => {
  it("merges into a YAML config and keeps comments, order and other settings", async () => {
    const p = file(
      "config.yaml",
      [
        "# Endpoint config for the HubSpot capture",
        "start_date: 2024-01-01T00:00:00Z # when to start",
        "credentials:",
        "  credentials_title: OAuth Credentials",
        "  # rotated by flowcap oauth --write",
        "  refresh_token: rt-old # the old one",
        "advanced:",
        "  window: 30",
        "",
      ].join("\n"),
    );
    expect(await writeCredentialsToFile(p, creds, { discriminator: "credentials_title" })).toEqual({ file: p, format: "yaml", replaced: false });
    expect(readFileSync(p, "utf8")).toBe(
      [
        "# Endpoint config for the HubSpot capture",
        "start_date: 2024-01-01T00:00:00Z # when to start",
        "credentials:",
        "  credentials_title: OAuth Credentials",
        "  # rotated by flowcap oauth --write",
        "  refresh_token: rt-new # the old one",
        "  client_id: cid",
        "  client_secret: csec",
        "advanced:",
        "  window: 30",
        "",
      ].join("\n"),
    );
  });

  it("adds credentials to a YAML config that has none", async () => {
    const p = file("new.yaml", "# just a start date\nstart_date: '2024-01-01'\n");
    await writeCredentialsToFile(p, creds);
    expect(readFileSync(p, "utf8")).toBe(
      "# just a start date\nstart_date: '2024-01-01'\ncredentials:\n  credentials_title: OAuth Credentials\n  refresh_token: rt-new\n  client_id: cid\n  client_secret: csec\n",
    );
  });

  it("replaces credentials of another auth method whole", async () => {
    const p = file("switch.yaml", "credentials:\n  credentials_title: Private App Credentials\n  access_token: pat-123\nother: 1\n");
    expect((await writeCredentialsToFile(p, creds, { discriminator: "credentials_title" })).replaced).toBe(true);
    expect(readFileSync(p, "utf8")).toBe("credentials:\n  credentials_title: OAuth Credentials\n  refresh_token: rt-new\n  client_id: cid\n  client_secret: csec\nother: 1\n");
  });

  it("merges into a JSON config, keeping its indentation, key order and mode", async () => {
    const p = file("config.json", '{\n    "b": 1,\n    "credentials": {"access_token": "x", "refresh_token": "old"},\n    "a": [1, 2]\n}\n');
    chmodSync(p, 0o600);
    expect((await writeCredentialsToFile(p, creds)).format).toBe("json");
    expect(readFileSync(p, "utf8")).toBe(
      JSON.stringify({ b: 1, credentials: { access_token: "x", refresh_token: "rt-new", credentials_title: "OAuth Credentials", client_id: "cid", client_secret: "csec" }, a: [1, 2] }, null, "    ") + "\n",
    );
    expect(statSync(p).mode & 0o777).toBe(0o600);
  });

  it("writes into an inline config inside a catalog", async () => {
    const p = file(
      "flow.yaml",
      "captures:\n  acmeCo/source-x:\n    endpoint:\n      local:\n        command: [node, main.js]\n        config:\n          start: 1 # keep me\n    bindings: []\n",
    );
    await writeCredentialsToFile(p, { refresh_token: "r" }, { configPath: ["captures", "acmeCo/source-x", "endpoint", "local", "config"] });
    expect(readFileSync(p, "utf8")).toBe(
      "captures:\n  acmeCo/source-x:\n    endpoint:\n      local:\n        command: [node, main.js]\n        config:\n          start: 1 # keep me\n          credentials:\n            refresh_token: r\n    bindings: []\n",
    );
  });

  it("keeps a file's own style: indentation, sequence indentation, flow padding, long strings", async () => {
    const long = "x".repeat(120);
    const four = file("four.yaml", `credentials:\n    credentials_title: OAuth Credentials\nscopes:\n    - a\nflow: { a: 1 }\ndescription: ${long}\n`);
    await writeCredentialsToFile(four, { refresh_token: "r" });
    expect(readFileSync(four, "utf8")).toBe(`credentials:\n    credentials_title: OAuth Credentials\n    refresh_token: r\nscopes:\n    - a\nflow: { a: 1 }\ndescription: ${long}\n`);
    const two = file("two.yaml", "scopes:\n- a\n- b\nflow: {a: 1}\n");
    await writeCredentialsToFile(two, { refresh_token: "r" });
    expect(readFileSync(two, "utf8")).toBe("scopes:\n- a\n- b\nflow: {a: 1}\ncredentials:\n  refresh_token: r\n");
  });

  it("refuses a sops-encrypted file, and says what to do", async () => {
    const p = file("enc.yaml", "credentials:\n  refresh_token_sops: ENC[AES256_GCM,data:x]\nsops:\n  mac: ENC[...]\n");
    await expect(writeCredentialsToFile(p, creds)).rejects.toThrow(/is sops-encrypted, and writing into it would break its MAC\. Decrypt it first/);
    expect(readFileSync(p, "utf8")).toContain("refresh_token_sops");
  });

  it("reports a file that does not parse", async () => {
    await expect(writeCredentialsToFile(file("bad.yaml", "a: [1\n"), creds)).rejects.toThrow(/bad\.yaml is not valid YAML/);
    await expect(writeCredentialsToFile(file("bad.json", "{"), creds)).rejects.toThrow(/bad\.json is not valid JSON/);
    await expect(writeCredentialsToFile(path.join(dir, "missing.yaml"), creds)).rejects.toThrow(/cannot read the config file/);
  });
});

describe("credentials", () => {
  const schema = { type: "object", properties: { credentials: credentialsSchema(oauth2Providers.salesforce().credentials, accessTokenCredentialsSchema()) }, required: ["credentials"] };

  it("builds what Flow stores: discriminator, mapped fields, client id and secret, then injected values", () => {
    expect(buildCredentials(schema, { refresh_token: "r", instance_url: "https://x" }, { clientId: "i", clientSecret: "s", provider: "salesforce", injectedValues: { extra: "e" } })).toEqual({
      credentials_title: "OAuth Credentials",
      refresh_token: "r",
      instance_url: "https://x",
      client_id: "i",
      client_secret: "s",
      extra: "e",
    });
  });

  it("masks what the schema marks secret and anything named like a secret", () => {
    expect(maskCredentials({ credentials_title: "OAuth Credentials", client_id: "i", client_secret: "s", refresh_token: "r", instance_url: "https://x", api_key: "k" }, schema, "salesforce")).toEqual({
      credentials_title: "OAuth Credentials",
      client_id: "[redacted]",
      client_secret: "[redacted]",
      refresh_token: "[redacted]",
      instance_url: "https://x",
      api_key: "[redacted]",
    });
  });
});
