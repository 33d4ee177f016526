import { existsSync, statSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { TempDir, withTempDir } from "./index.js";

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
    let path = "";
    await expect(
      withTempDir(async (dir) => {
        path = dir.path;
        await dir.writeJson("state", []);
        throw new Error("failed");
      }),
    ).rejects.toThrow("failed");
    expect(existsSync(path)).toBe(false);
  });
});
