import { describe, expect, it } from "vitest";
import { decodeOpsLog } from "./opsLog.js";

describe("decodeOpsLog reads stderr as Flow does", () => {
  it("takes flowcap's and Estuary's shapes and their aliases", () => {
    expect(decodeOpsLog('{"ts":"2026-01-01T00:00:00Z","level":"info","message":"hi","fields":{"a":1}}')).toEqual({ level: "info", message: "hi", fields: { a: 1 }, ts: "2026-01-01T00:00:00Z", unstructured: false });
    expect(decodeOpsLog('{"level":"WARNING","msg":"careful","source":"flow"}')).toEqual({ level: "warn", message: "careful", fields: { source: "flow" }, unstructured: false });
    expect(decodeOpsLog('{"lvl":"fatal","time":"t","fields":{"message":"from fields"}}')).toMatchObject({ level: "error", message: "from fields", ts: "t" });
  });

  it("guesses a missing level from the words, as Flow does", () => {
    expect(decodeOpsLog('{"message":"connection failed"}').level).toBe("error");
    expect(decodeOpsLog('{"message":"all good"}').level).toBe("warn");
    expect(decodeOpsLog("Traceback (most recent call last):")).toMatchObject({ level: "warn", unstructured: true });
    expect(decodeOpsLog("panic: runtime error")).toMatchObject({ level: "error", unstructured: true });
  });
});
