#!/usr/bin/env node
// The Flow connector: the same source, run in-process by flowcap's Airbyte shim.
//
// Unlike other connectors, this one has no main.ts to bundle into one file (`flowcap bundle`):
// faros-airbyte-cdk reads its own package.json from node_modules when it loads, so it runs from
// an installed tree: `node dist/connectors/source-faros-example/src/flow.js`.
import { serve } from "flowcap";
import { createAirbyteConnector, farosSource } from "flowcap/airbyte";
import { createSource } from "./index.js";

await serve(createAirbyteConnector(farosSource(createSource(), { label: "source-faros-example" })));
