#!/usr/bin/env node
import { serve } from "flowcap";
import { connector } from "./src/index.js";

await serve(connector);
