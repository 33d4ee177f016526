import { existsSync, mkdirSync, mkdtempSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { TempDir, withTempDir } from "./index.js";
import { removeStaleTempDirs } from "./tempDir.js";

describe("TempDir", () => {
  it("writes <name>.json with mode 0600 in a private directory, and removes it all", async () => {
    const dir = await TempDir.create();
    const file = await dir.writeJson("config", { token: "t" });
    expect(file.endsWith("/config.json")).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(dir.path).mode & 0o777).toBe(0o700);
    expect(await dir.readJson("config")).toEqual({ token: "t" });
    await expect(dir.writeJson("config", {})).rejects.toThrow(/EEXIST/);
    await dir.remove();
    expect(existsSync(dir.path)).toBe(false);
  });

  it("is removed by withTempDir even when the work fails", async () => {
    let where = "";
    await expect(
      withTempDir(async (dir) => {
        where = dir.path;
        await dir.writeJson("state", []);
        throw new Error("failed");
      }),
    ).rejects.toThrow("failed");
    expect(existsSync(where)).toBe(false);
  });
});

describe("directories of owners that are gone", () => {
  /** The pid of a process that has exited. */
  async function deadPid(): Promise<number> {
    const { spawn } = await import("node:child_process");
    const child = spawn(process.execPath, ["-e", ""]);
    await new Promise((r) => child.once("close", r));
    return child.pid!;
  }

  it("are removed, secrets and all; those of running owners and other names are kept", async () => {
    const root = mkdtempSync(path.join(tmpdir(), "flowcap-test-"));
    const dead = await deadPid();
    const stale = path.join(root, `flowcap-${dead}-AbC123`);
    const mine = path.join(root, `flowcap-${process.pid}-XyZ789`);
    const parent = path.join(root, `flowcap-${process.ppid}-Qwe456`);
    const other = path.join(root, "flowcap-test-abcdef");
    for (const dir of [stale, mine, parent, other]) {
      mkdirSync(dir);
      writeFileSync(path.join(dir, "config.json"), '{"token":"s3cr3t"}');
    }
    await removeStaleTempDirs(root);
    expect([stale, mine, parent, other].map((d) => existsSync(d))).toEqual([false, true, true, true]);
  });

  it("TempDir names its owner, so a later start can tell", async () => {
    await withTempDir(async (dir) => expect(path.basename(dir.path)).toMatch(new RegExp(`^flowcap-${process.pid}-\\w{6}$`)));
  });
});
