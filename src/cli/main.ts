#!/usr/bin/env node
// The bin entry: a doorway to the CLI, which loads each command only when it runs.
import { runCli } from "./cli.js";

process.exitCode = await runCli(process.argv.slice(2));
