import { defineConfig, mergeConfig } from "vitest/config";
import base from "./vitest.config.js";

// `npm run lint`: the architecture checks that need the module graph, not a build (no global
// setup) and not the type checker: the layers, unused exports, the public surfaces.
const config = mergeConfig(base, defineConfig({ test: { typecheck: { enabled: false } } }));
// Set, not merged: mergeConfig would add these to the suite's lists.
config.test!.include = ["src/architecture.test.ts", "src/public/exports.test.ts"];
config.test!.globalSetup = [];
export default config;
