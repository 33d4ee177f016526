#!/usr/bin/env node
import { serve } from "flowcap";
import { connector } from "./src/index.js";

await serve(connector, {
  // Discovered bindings say when their key is a fallback (a unique index, or the WAL location), as Estuary's do.
  encode: { emitIsFallbackKey: true },
  // A backfill chunk (50,000 rows by default) and the changes up to its fence are one checkpoint
  // sequence: keep it in memory rather than spill it to a file and read it back.
  spoolMemoryBytes: 64 * 1024 * 1024,
});
