#!/usr/bin/env node
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { serve } from "flowcap";
import { childTap, createSingerConnector } from "flowcap/singer";

/**
 * Where the tap is: beside this file in the connector's image (the Dockerfile copies runtime/
 * next to the bundle), else in runtime/ of the source tree that holds this file (compiled into
 * dist/connectors/..., or bundled into dist/bundles/).
 */
function findTap(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const beside = path.join(here, "tap_example.py");
  if (existsSync(beside)) return beside;
  for (let dir = here; ; dir = path.dirname(dir)) {
    const inTree = path.join(dir, "connectors/source-singer-example/runtime/tap_example.py");
    if (existsSync(inTree)) return inTree;
    if (path.dirname(dir) === dir) throw new Error(`tap_example.py is missing: it belongs beside ${here}, or in connectors/source-singer-example/runtime/`);
  }
}

await serve(
  createSingerConnector(childTap({ argv: ["python3", findTap()], label: "tap-example" }), {
    documentationUrl: "https://github.com/flowcap/flowcap/tree/main/connectors/source-singer-example",
  }),
);
