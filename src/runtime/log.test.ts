import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { LineCollector } from "../../test/helpers/inProcess.js";
import { createLogger, RawJson } from "./log.js";

function logger() {
  const stream = new PassThrough();
  const lines = new LineCollector();
  stream.on("data", (c: Buffer) => lines.push(c));
  return { log: createLogger({ stream, level: "debug", now: () => new Date(0) }), lines };
}

describe("the logger's redaction", () => {
  it("redacts secrets from every string, number and key of a line, in every form they take", () => {
    const { log, lines } = logger();
    log.redactor.add(["918273", "cs-secret-77"]);
    log.info("pin 918273, header Basic " + Buffer.from("client:cs-secret-77").toString("base64"), {
      pin: 918273,
      nested: { list: [918273, "cs-secret-77"], "cs-secret-77": "as a key" },
      url: "https://x.io/?secret=cs-secret-77",
    });
    const [line] = lines.lines;
    expect(line).not.toMatch(/918273|cs-secret-77|Y3Mtc2VjcmV0LTc3/);
    expect(JSON.parse(line!)).toMatchObject({ fields: { pin: "[redacted]", nested: { list: ["[redacted]", "[redacted]"], "[redacted]": "as a key" } } });
  });

  it("leaves numbers as numbers when they hold no secret", () => {
    const { log, lines } = logger();
    log.redactor.add(["918273"]);
    log.info("count", { n: 42, big: 12345678901234567890n });
    expect(lines.json[0]!.fields).toEqual({ n: 42, big: "12345678901234567890" });
  });
});

describe("configUpdate events", () => {
  // With user: postgres and password: postgres, the password's value is in a plain field too.
  const answer = `{
  "host": "db.internal",
  "port": 5432.0,
  "user": "postgres",
  "password": "ENC[AES256_GCM,data:cG9zdGdyZXM=,iv:aXY=,tag:dGFn,type:str]",
  "sops": {"mac": "ENC[AES256_GCM,data:postgres/mac]", "lastmodified": "2026-12-01T00:00:00Z", "encrypted_suffix": "_sops"}
}`;

  it("carries the encryption service's answer byte for byte (whitespace between tokens aside), never redacted", () => {
    const { log, lines } = logger();
    log.redactor.add(["postgres"]);
    log.event.configUpdate("the source updated its config (postgres)", new RawJson(answer));
    const [line] = lines.lines;
    expect(lines.lines).toHaveLength(1);
    const compact =
      '{"host":"db.internal","port":5432.0,"user":"postgres","password":"ENC[AES256_GCM,data:cG9zdGdyZXM=,iv:aXY=,tag:dGFn,type:str]","sops":{"mac":"ENC[AES256_GCM,data:postgres/mac]","lastmodified":"2026-12-01T00:00:00Z","encrypted_suffix":"_sops"}}';
    expect(line).toBe(`{"ts":"1970-01-01T00:00:00.000Z","level":"info","message":"the source updated its config ([redacted])","fields":{"eventType":"configUpdate","config":${compact}}}`);
  });

  it("writes a config given as an object unredacted too, beside the logger's own fields", () => {
    const { log, lines } = logger();
    log.redactor.add(["postgres"]);
    log.child({ source: "postgres-source" }).event.configUpdate("updated", { user: "postgres", password: "ENC[x]" }, { attempt: 1 });
    expect(lines.json[0]).toEqual({
      ts: "1970-01-01T00:00:00.000Z",
      level: "info",
      message: "updated",
      fields: { source: "[redacted]-source", attempt: 1, eventType: "configUpdate", config: { user: "postgres", password: "ENC[x]" } },
    });
  });
});

describe("the logger's serialization", () => {
  it("writes an object reached twice (shared, not circular) in full both times", () => {
    const { log, lines } = logger();
    const shared = { id: 7, tags: ["a"] };
    const list = [1, 2];
    log.info("shared", { first: shared, second: shared, nested: { again: shared }, lists: [list, list] });
    expect(lines.json[0]!.fields).toEqual({ first: shared, second: shared, nested: { again: shared }, lists: [list, list] });
  });

  it("writes [circular] where an object recurs inside itself, and keeps its siblings", () => {
    const { log, lines } = logger();
    const node: Record<string, unknown> = { name: "root" };
    node.self = node;
    node.child = { parent: node, name: "child" };
    const error = new Error("outer", { cause: new Error("inner") });
    (error.cause as Error).cause = error;
    log.info("cycle", { node, after: 1, error });
    const fields = lines.json[0]!.fields as { node: unknown; after: unknown; error: { cause: unknown } };
    expect(fields.node).toEqual({ name: "root", self: "[circular]", child: { parent: "[circular]", name: "child" } });
    expect(fields.after).toBe(1);
    expect(fields.error.cause).toMatchObject({ message: "inner", cause: "[circular]" });
  });

  it("tracks sharing through copies made for redaction", () => {
    const { log, lines } = logger();
    log.redactor.add(["s3cr3t-key"]);
    const shared = { "s3cr3t-key": 1 };
    const loop: Record<string, unknown> = { "s3cr3t-key": 2 };
    loop.again = loop;
    log.info("redacted", { a: shared, b: shared, loop });
    expect(lines.json[0]!.fields).toEqual({ a: { "[redacted]": 1 }, b: { "[redacted]": 1 }, loop: { "[redacted]": 2, again: "[circular]" } });
  });
});
