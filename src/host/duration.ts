const UNITS: Record<string, number> = {
  ms: 0.001,
  s: 1,
  sec: 1,
  secs: 1,
  second: 1,
  seconds: 1,
  m: 60,
  min: 60,
  mins: 60,
  minute: 60,
  minutes: 60,
  h: 3600,
  hr: 3600,
  hour: 3600,
  hours: 3600,
  d: 86400,
  day: 86400,
  days: 86400,
};

/**
 * Parses a duration as Flow's catalog (humantime) and flowctl's flags write them: `3m`, `300s`,
 * `1h 30m`, `1h30m`, `500ms`. Returns seconds, or undefined when the text is not a duration.
 */
export function parseDurationSeconds(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === "") return undefined;
  const re = /(\d+(?:\.\d+)?)\s*([a-z]+)/gy;
  let total = 0;
  let at = 0;
  for (const match of trimmed.matchAll(re)) {
    if (match.index !== at) return undefined;
    const unit = UNITS[match[2]!];
    if (unit === undefined) return undefined;
    total += Number(match[1]) * unit;
    at = match.index + match[0].length;
    while (trimmed[at] === " ") at++;
  }
  return at === trimmed.length ? total : undefined;
}
