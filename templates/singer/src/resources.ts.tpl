import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The tap this connector wraps, and how it is started: any program that follows the Singer
 * convention. Here it is runtime/tap.py, a Python tap with one stream, <% resource %>; for a tap
 * installed from PyPI or elsewhere, return its command instead (`["tap-github"]`, say), and put
 * what it needs in the image.
 */
export function tapCommand(): string[] {
  return ["python3", tapFile()];
}

/**
 * runtime/tap.py: beside the bundle in the image (copy runtime/ there), else in runtime/ next to
 * this package's main (run from source, from dist/, or bundled into dist/).
 */
function tapFile(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [path.join(here, "tap.py"), ...[here, path.dirname(here), path.dirname(path.dirname(here))].map((dir) => path.join(dir, "runtime", "tap.py"))];
  const found = candidates.find((file) => existsSync(file));
  if (!found) throw new Error(`the tap is missing: looked for ${candidates.join(", ")}`);
  return found;
}
