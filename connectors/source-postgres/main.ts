#!/usr/bin/env node
import { serve } from "flowcap";
import { connector } from "./src/index.js";

// Discovered bindings say when their key is a fallback (a unique index, or the WAL location), as Estuary's do.
await serve(connector, { encode: { emitIsFallbackKey: true } });
