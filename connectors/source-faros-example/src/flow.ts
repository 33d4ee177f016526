#!/usr/bin/env node
// The Flow connector: the same source, run in-process by flowcap's Airbyte shim. It runs from the
// installed tree (`node dist/connectors/source-faros-example/src/flow.js`) or bundled from
// main.ts (`flowcap bundle` inlines the package.json that faros-airbyte-cdk reads when it loads).
import { serve } from "flowcap";
import { createAirbyteConnector, farosSource } from "flowcap/airbyte";
import { createSource } from "./index.js";

await serve(createAirbyteConnector(farosSource(createSource(), { label: "source-faros-example" })));
