// The parts of @octokit/fixtures(-server) and express (which ship no types) the tests use.
declare module "@octokit/fixtures" {
  /** A recorded exchange, as nock's recorder writes it. */
  export interface RecordedFixture {
    scope: string;
    method: string;
    path: string;
    status: number;
    response: unknown;
    reqheaders: Record<string, string | number>;
    headers: Record<string, string>;
    [key: string]: unknown;
  }
  const fixtures: { get(name: string): RecordedFixture[] };
  export default fixtures;
}

declare module "@octokit/fixtures-server" {
  import type { RecordedFixture } from "@octokit/fixtures";
  export default function fixtureServerMiddleware(options: { fixturesUrl: string; logLevel?: string; ttl?: number; fixtures: Record<string, RecordedFixture[]> }): unknown;
}

declare module "express" {
  import type { IncomingMessage, ServerResponse } from "node:http";
  interface App {
    (req: IncomingMessage, res: ServerResponse): void;
    use(handler: unknown): App;
  }
  export default function express(): App;
}
