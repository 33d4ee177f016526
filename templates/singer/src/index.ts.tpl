import { childTap, createSingerConnector } from "flowcap/singer";
import { configSchema } from "./models.js";
import { tapCommand } from "./resources.js";

/**
 * The Flow connector: flowcap's Singer shim over the tap. Discovery runs the tap's `--discover`,
 * each capture session one sync (`--catalog`, `--state`); see the README for what the shim does
 * with each Singer message.
 */
export const connector = createSingerConnector(childTap({ argv: tapCommand(), label: "tap-<% provider %>" }), {
  configSchema,
  documentationUrl: "https://example.com/docs/<% name %>",
});
