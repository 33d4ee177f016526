import { readFileSync } from "node:fs";

export async function run(_argv: string[] = []): Promise<number> {
  const pkg = JSON.parse(readFileSync(new URL("../../../../package.json", import.meta.url), "utf8")) as { version: string };
  process.stdout.write(`flowcap ${pkg.version} (Flow capture protocol ${3032023}, node ${process.versions.node})\n`);
  return 0;
}
