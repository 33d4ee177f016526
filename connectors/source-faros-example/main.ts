#!/usr/bin/env node
// The Flow connector: the same source, run in-process by flowcap's Airbyte shim.
import { serve } from "flowcap";
import { createAirbyteConnector, farosSource } from "flowcap/airbyte";
import { createSource } from "./src/index.js";

await serve(createAirbyteConnector(farosSource(createSource(), { label: "source-faros-example" })));
