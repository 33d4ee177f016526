import { defineConnector } from "flowcap";
import { configSchema } from "./models.js";
import { greetings } from "./resources.js";

/** The smallest real flowcap connector: greetings at a configurable rate, resuming from state. */
export const connector = defineConnector({
  documentationUrl: "https://github.com/flowcap/flowcap/tree/main/connectors/source-hello-world",
  config: configSchema,
  resources: (config) => [greetings(config)],
});
