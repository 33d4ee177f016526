import { Cron } from "croner";
import type { ConfigProblem } from "../util/errors.js";
import { parseAnyDurationSeconds } from "../util/duration.js";

/** The polling interval of a resource that declares none: five minutes, as Flow's captures default to. */
export const DEFAULT_RESOURCE_INTERVAL = "PT5M";

/** Parses an interval (`PT5M`, `5m`, `1h 30m`, or milliseconds as a number) into milliseconds. */
export function parseIntervalMs(value: string | number): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) && value >= 0 ? value : undefined;
  const seconds = parseAnyDurationSeconds(value);
  return seconds === undefined ? undefined : Math.round(seconds * 1000);
}

/** A cron schedule, read in UTC. */
export class Schedule {
  private readonly cron: Cron;

  constructor(readonly expression: string) {
    this.cron = new Cron(expression, { timezone: "UTC", paused: true });
  }

  /** The first time the schedule fires strictly after `after`, or undefined if it never does. */
  nextAfter(after: Date): Date | undefined {
    return this.cron.nextRun(after) ?? undefined;
  }

  /** Whether the schedule fired in (`since`, `now`]. */
  firedBetween(since: Date, now: Date): boolean {
    const next = this.nextAfter(since);
    return next !== undefined && next.getTime() <= now.getTime();
  }
}

/** Reads a cron expression, or explains what is wrong with it. */
export function parseSchedule(expression: string): Schedule | string {
  try {
    return new Schedule(expression);
  } catch (error) {
    return `${JSON.stringify(expression)} is not a cron expression (minute hour day-of-month month day-of-week, in UTC, e.g. "0 3 * * *"): ${(error as Error).message}`;
  }
}

/** The timing a binding runs with: its resource config's, else the resource's defaults. */
export interface BindingTiming {
  intervalMs: number;
  schedule: Schedule | undefined;
}

/**
 * Reads `interval` and `schedule` from a binding's resource config, falling back on the
 * resource's defaults. Problems carry their path inside the resource config.
 */
export function readTiming(resourceConfig: Record<string, unknown>, defaults: { interval: string | number; schedule?: string }): { timing?: BindingTiming; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const rawInterval = resourceConfig.interval ?? defaults.interval;
  let intervalMs: number | undefined;
  if (typeof rawInterval === "string" || typeof rawInterval === "number") intervalMs = parseIntervalMs(rawInterval);
  if (intervalMs === undefined) {
    problems.push({ path: "interval", message: `${JSON.stringify(rawInterval)} is not an interval: write ISO-8601 (PT5M, PT1H) or a duration such as 5m or 1h 30m` });
  }
  const rawSchedule = resourceConfig.schedule ?? defaults.schedule ?? "";
  let schedule: Schedule | undefined;
  if (typeof rawSchedule !== "string") problems.push({ path: "schedule", message: `must be a cron expression string, not ${JSON.stringify(rawSchedule)}` });
  else if (rawSchedule.trim() !== "") {
    const parsed = parseSchedule(rawSchedule.trim());
    if (typeof parsed === "string") problems.push({ path: "schedule", message: parsed });
    else schedule = parsed;
  }
  return problems.length ? { problems } : { timing: { intervalMs: intervalMs!, schedule }, problems };
}
