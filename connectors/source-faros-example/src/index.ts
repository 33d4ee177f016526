import { AirbyteSourceBase, AirbyteSourceLogger, AirbyteSourceRunner, AirbyteSpec, type AirbyteStreamBase } from "faros-airbyte-cdk";
import { TicketsApi } from "./api.js";
import { specification, type ExampleConfig } from "./models.js";
import { Projects, Tickets } from "./streams.js";

/**
 * An Airbyte source written with faros-airbyte-cdk: the projects and tickets of a tickets API.
 * It runs as its own CLI (`bin/main spec|check|discover|read`), and in-process under flowcap
 * (`src/flow.ts`), unchanged.
 */
export class ExampleSource extends AirbyteSourceBase<ExampleConfig> {
  get type(): string {
    return "example";
  }

  async spec(): Promise<AirbyteSpec> {
    return new AirbyteSpec(specification);
  }

  async checkConnection(config: ExampleConfig): Promise<[boolean, Error | undefined]> {
    try {
      const me = await new TicketsApi(config).me();
      this.logger.info(`connected as ${me.name}`);
      return [true, undefined];
    } catch (error) {
      // The CDK shows this message to the user (flowcap: as the failed check's message).
      return [false, new Error(`cannot reach the tickets API: ${(error as Error).message}`)];
    }
  }

  streams(config: ExampleConfig): AirbyteStreamBase[] {
    const api = new TicketsApi(config);
    return [new Projects(this.logger, api), new Tickets(this.logger, api)];
  }
}

/** The source with the CDK's logger (which writes Airbyte LOG messages). */
export function createSource(): ExampleSource {
  return new ExampleSource(new AirbyteSourceLogger());
}

/** The Airbyte CLI: `spec`, `check --config`, `discover --config`, `read --config --catalog [--state]`. */
export function mainCommand() {
  const logger = new AirbyteSourceLogger();
  return new AirbyteSourceRunner(logger, new ExampleSource(logger)).mainCommand();
}
