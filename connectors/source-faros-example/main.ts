#!/usr/bin/env node
// The Flow connector, as bundled and shipped (`npm run bundle:source-faros-example`): the source
// runs in-process through flowcap's Airbyte shim. See src/flow.ts.
import "./src/flow.js";
