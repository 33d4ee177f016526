#!/usr/bin/env node
// The `flowcap` command: a doorway to the built CLI. Committed (not built), so npm links it even
// before `npm run build` has made dist/ (a fresh clone's `npm ci`).
import "../dist/src/cli/main.js";
