#!/usr/bin/env node
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { serve } from "flowcap";
import { childSource, createAirbyteConnector } from "flowcap/airbyte";

/**
 * The Airbyte source: runtime/source.py, found beside this file (in an image, where runtime/ is
 * copied next to the bundle) or in ../runtime (from dist/ in development). Replace the argv to
 * wrap another source: any language, any command that speaks the Airbyte CLI convention.
 */
const beside = fileURLToPath(new URL("./source.py", import.meta.url));
const source = existsSync(beside) ? beside : fileURLToPath(new URL("../runtime/source.py", import.meta.url));

await serve(
  createAirbyteConnector(childSource({ argv: ["python3", source], label: "<% name %>" }), {
    documentationUrl: "https://example.com/docs/<% name %>",
  }),
);
