import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
// @ts-expect-error: a plain ESM script without types
import { generateWireFiles } from "../../scripts/wire.mjs";
import { repoRoot } from "../../test/helpers/fixtures.js";

describe("generated protocol files", () => {
  it("are what `npm run gen` makes of schemas/ (run it after changing a schema)", async () => {
    const files = (await generateWireFiles(path.join(repoRoot, "schemas"))) as Record<string, string>;
    expect(Object.keys(files).sort()).toEqual(["requestValidators.ts", "responseValidators.ts", "schemas.ts", "types.ts"]);
    for (const [name, text] of Object.entries(files)) {
      const onDisk = await readFile(path.join(repoRoot, "src/protocol/generated", name), "utf8");
      expect(onDisk, `src/protocol/generated/${name} is stale: run npm run gen`).toBe(text);
    }
  });
});
