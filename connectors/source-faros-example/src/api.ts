import type { ExampleConfig, Project, Ticket } from "./models.js";

/** An HTTP error of the tickets API: its status and what it said. */
export class TicketsApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "TicketsApiError";
  }
}

/** The tickets API: `GET /me`, `GET /projects`, `GET /tickets?updated_since=&page=&page_size=`. */
export class TicketsApi {
  private readonly base: string;

  constructor(private readonly config: ExampleConfig) {
    this.base = config.api_url.replace(/\/+$/, "");
  }

  /** Who the token belongs to; fails on a bad token. */
  async me(): Promise<{ name: string }> {
    return this.get("/me");
  }

  async *projects(): AsyncGenerator<Project> {
    const body = await this.get<{ projects: Project[] }>("/projects");
    yield* body.projects;
  }

  /** Tickets updated after `since` (ms), oldest first, page by page. */
  async *tickets(since: number): AsyncGenerator<Ticket> {
    const pageSize = this.config.page_size ?? 100;
    for (let page: number | null = 1; page !== null; ) {
      const body: { tickets: Ticket[]; next_page: number | null } = await this.get(`/tickets?updated_since=${since}&page=${page}&page_size=${pageSize}`);
      yield* body.tickets;
      page = body.next_page;
    }
  }

  private async get<T>(path: string): Promise<T> {
    const response = await fetch(this.base + path, { headers: { authorization: `Bearer ${this.config.token}`, accept: "application/json" }, signal: AbortSignal.timeout(30_000) });
    const text = await response.text();
    if (!response.ok) {
      let message = text.slice(0, 200);
      try {
        message = (JSON.parse(text) as { error?: string }).error ?? message;
      } catch {
        // not JSON: keep the text
      }
      throw new TicketsApiError(response.status, `GET ${path.split("?")[0]} answered ${response.status}: ${message}`);
    }
    return JSON.parse(text) as T;
  }
}
