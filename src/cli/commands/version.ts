import { readFileSync } from "node:fs";

export async function run(_argv: string[] = []): Promise<number> {
  // A single executable has no package.json beside it: `bundle --executable --cli` defines the version.
  const version = process.env.FLOWCAP_EMBEDDED_VERSION ?? (JSON.parse(readFileSync(new URL("../../../../package.json", import.meta.url), "utf8")) as { version: string }).version;
  process.stdout.write(`flowcap ${version} (Flow capture protocol ${3032023}, node ${process.versions.node})\n`);
  return 0;
}
