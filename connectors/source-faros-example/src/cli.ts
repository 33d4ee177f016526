import { mainCommand } from "./index.js";

// The Airbyte CLI entry (bin/main): the CDK's runner parses argv and prints Airbyte messages.
await mainCommand().parseAsync(process.argv);
