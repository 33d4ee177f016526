import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";

/**
 * Adds a `bundle:<name>` script to the package.json of the repository a connector was scaffolded
 * into, when that repository keeps one per connector: the connector is `<root>/connectors/<name>`
 * and `<root>/package.json` already has `bundle:<other>` scripts naming their connector (flowcap's
 * own repository does, and its ship test requires one for every connector). The new script is an
 * existing one with the other connector's name replaced, placed after the last of them. Returns
 * the package.json's path when it changed it; any other repository's package.json is left alone.
 */
export async function addBundleScript(connectorDir: string, name: string): Promise<string | undefined> {
  if (path.basename(connectorDir) !== name || path.basename(path.dirname(connectorDir)) !== "connectors") return undefined;
  const file = path.join(path.dirname(path.dirname(connectorDir)), "package.json");
  const text = await readFile(file, "utf8").catch(() => undefined);
  if (text === undefined) return undefined;
  let pkg: { scripts?: Record<string, string> };
  try {
    pkg = JSON.parse(text) as typeof pkg;
  } catch {
    return undefined; // not ours to repair
  }
  const scripts = pkg.scripts ?? {};
  const key = `bundle:${name}`;
  const models = Object.entries(scripts).filter(([k, command]) => k.startsWith("bundle:") && typeof command === "string" && command.includes(k.slice("bundle:".length)));
  if (key in scripts || models.length === 0) return undefined;
  const [modelKey, modelCommand] = models.at(-1)!;
  const command = modelCommand.split(modelKey.slice("bundle:".length)).join(name);
  // Rebuild the scripts in order, so the new one sits with the other bundle scripts.
  const entries = Object.entries(scripts);
  const after = entries.findIndex(([k]) => k === modelKey);
  entries.splice(after + 1, 0, [key, command]);
  pkg.scripts = Object.fromEntries(entries);
  const indent = /^([ \t]+)"/m.exec(text)?.[1] ?? "  ";
  await writeFile(file, JSON.stringify(pkg, null, indent) + (text.endsWith("\n") ? "\n" : ""));
  return file;
}
