import { AirbyteStreamBase, SyncMode, type AirbyteLogger, type StreamKey } from "faros-airbyte-cdk";
import type { TicketsApi } from "./api.js";
import { projectSchema, ticketSchema, type Project, type Ticket, type TicketsState } from "./models.js";

/** Every project, on every read (full refresh). */
export class Projects extends AirbyteStreamBase {
  constructor(
    logger: AirbyteLogger,
    private readonly api: TicketsApi,
  ) {
    super(logger);
  }

  getJsonSchema(): Record<string, unknown> {
    return projectSchema;
  }

  get primaryKey(): StreamKey {
    return "id";
  }

  async *readRecords(): AsyncGenerator<Project> {
    yield* this.api.projects();
  }
}

/** Tickets, incrementally: those updated since the last one read. */
export class Tickets extends AirbyteStreamBase {
  constructor(
    logger: AirbyteLogger,
    private readonly api: TicketsApi,
  ) {
    super(logger);
  }

  getJsonSchema(): Record<string, unknown> {
    return ticketSchema;
  }

  get primaryKey(): StreamKey {
    return "id";
  }

  override get cursorField(): string {
    return "updated_at";
  }

  /** A state message every 50 tickets, so a long read resumes close to where it stopped. */
  override get stateCheckpointInterval(): number {
    return 50;
  }

  async *readRecords(syncMode: SyncMode, _cursorField?: string[], _slice?: Record<string, unknown>, state?: Partial<TicketsState>): AsyncGenerator<Ticket> {
    const since = syncMode === SyncMode.INCREMENTAL ? (state?.cutoff ?? 0) : 0;
    yield* this.api.tickets(since);
  }

  override getUpdatedState(current: Partial<TicketsState>, latest: Ticket): TicketsState {
    return { cutoff: Math.max(current?.cutoff ?? 0, Date.parse(latest.updated_at)) };
  }
}
