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
  let rest = text.trim();
  if (rest === "") return undefined;
  let total = 0;
  while (rest !== "") {
    const match = /^(\d+(?:\.\d+)?)\s*([a-z]+)\s*/.exec(rest);
    const unit = match ? UNITS[match[2]!] : undefined;
    if (!match || unit === undefined) return undefined;
    total += Number(match[1]) * unit;
    rest = rest.slice(match[0].length);
  }
  return total;
}

const ISO_DURATION = /^P(?:(\d+(?:[.,]\d+)?)W)?(?:(\d+(?:[.,]\d+)?)D)?(?:T(?:(\d+(?:[.,]\d+)?)H)?(?:(\d+(?:[.,]\d+)?)M)?(?:(\d+(?:[.,]\d+)?)S)?)?$/i;

/**
 * Parses an ISO-8601 duration of weeks, days, hours, minutes and seconds (`PT5M`, `P1D`,
 * `PT1H30M`, `PT0.5S`), as Flow's resource configs and pydantic's `timedelta` write them.
 * Years and months are refused (their length varies). Returns seconds, or undefined.
 */
export function parseIsoDurationSeconds(text: string): number | undefined {
  const match = ISO_DURATION.exec(text.trim());
  if (!match || /T$/i.test(text.trim()) || text.trim().toUpperCase() === "P") return undefined;
  const [, w, d, h, m, s] = match.map((v) => (v === undefined ? 0 : Number(v.replace(",", "."))));
  return w! * 604_800 + d! * 86_400 + h! * 3600 + m! * 60 + s!;
}

/**
 * Parses a duration written either way: ISO-8601 (`PT5M`) or humantime (`5m`, `1h 30m`).
 * Returns seconds, or undefined when the text is neither.
 */
export function parseAnyDurationSeconds(text: string): number | undefined {
  return /^\s*P/i.test(text) ? parseIsoDurationSeconds(text) : parseDurationSeconds(text);
}
