/**
 * Date-time strings and numbers as airbyte-to-flow turns them into RFC 3339 (`normalize_to_rfc3339`
 * in `airbyte-to-flow/src/interceptors/normalize.rs`, estuary/airbyte commit
 * 1465a983e627c51f6f10a398048aafcdc21ccc84), which tries the `dateparser` crate (0.2) with UTC for
 * values without a zone and midnight for values without a time, then three chrono formats.
 *
 * The formats of dateparser read here: Unix timestamps of 10, 13 or 19 digits; RFC 2822;
 * `YYYY-MM-DD` with an optional time (`T` or spaces, `:SS`, a fraction, AM/PM) and zone (`Z`,
 * `±HH`, `±HHMM`, `±HH:MM`, UTC, GMT and the US abbreviations); month names (`May 25, 2021`,
 * `7 Oct 1970`, with a time); `M/D/Y` and `Y/M/D` with a time; `M.D.Y` and `Y.M.D`; MySQL's
 * `YYMMDD HH:MM:SS`. Not read (left as they are): a time of day alone and `Mon DD HH:MM`,
 * which dateparser places on the day it runs (so the same record would differ from day to day),
 * and Chinese dates.
 */

/** An instant with nanoseconds: JavaScript's Date stops at milliseconds. */
export interface Instant {
  /** Milliseconds since the epoch, whole. */
  ms: number;
  /** Nanoseconds within the millisecond (0..999999). */
  subMsNanos: number;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-](\d{2}):(\d{2}))$/;

/** True when Flow's `format: date-time` accepts the value (RFC 3339 with valid fields). */
export function isRfc3339(value: string): boolean {
  const m = RFC3339.exec(value);
  if (!m) return false;
  const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [number, number, number, number, number, number];
  if (!validDate(y, mo, d) || h > 23 || mi > 59 || s > 60) return false;
  return m[9] === undefined || (Number(m[9]) <= 23 && Number(m[10]) <= 59);
}

/** `YYYY-MM-DD` that is a real date: Flow's `format: date`. */
export function isIsoDate(value: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  return m !== null && validDate(Number(m[1]), Number(m[2]), Number(m[3]));
}

function validDate(y: number, mo: number, d: number): boolean {
  if (mo < 1 || mo > 12 || d < 1) return false;
  return d <= new Date(Date.UTC(y, mo, 0)).getUTCDate() || (mo === 2 && d === 29 && leap(y));
}

function leap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

/** Formats an instant as chrono's `to_rfc3339_opts(SecondsFormat::AutoSi, true)`: `Z`, and 0, 3, 6 or 9 fraction digits. */
export function formatRfc3339(instant: Instant): string {
  const date = new Date(instant.ms);
  const base = date.toISOString().slice(0, 19);
  const nanos = date.getUTCMilliseconds() * 1_000_000 + instant.subMsNanos;
  if (nanos === 0) return `${base}Z`;
  const digits = String(nanos).padStart(9, "0");
  if (nanos % 1_000_000 === 0) return `${base}.${digits.slice(0, 3)}Z`;
  if (nanos % 1_000 === 0) return `${base}.${digits.slice(0, 6)}Z`;
  return `${base}.${digits}Z`;
}

/** The largest value taken as Unix seconds (January 1st, 3000); larger ones are milliseconds. */
const UNIX_SECONDS_MAX = 32503680000;

/**
 * A number as airbyte-to-flow reads a date-time number: a non-integer is seconds with a fraction
 * (taken to the millisecond); a value above UNIX_SECONDS_MAX is milliseconds, else seconds.
 */
export function instantFromNumber(value: number): Instant | undefined {
  const v = Number.isInteger(value) ? value : Math.trunc(value * 1000);
  const ms = v > UNIX_SECONDS_MAX ? v : v * 1000;
  return Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? { ms, subMsNanos: 0 } : undefined;
}

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const FULL_MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"];

/** Zone abbreviations dateparser's timezone table and chrono's RFC 2822 parser share, in minutes east of UTC. */
const ZONES: Record<string, number> = {
  Z: 0, UT: 0, UTC: 0, GMT: 0,
  EST: -300, EDT: -240, CST: -360, CDT: -300, MST: -420, MDT: -360, PST: -480, PDT: -420,
  AKST: -540, AKDT: -480, HST: -600, CET: 60, CEST: 120, EET: 120, EEST: 180, WET: 0, WEST: 60, BST: 60, IST: 330, JST: 540,
};

function zoneMinutes(zone: string | undefined): number | undefined {
  if (zone === undefined || zone === "") return 0;
  const z = zone.trim();
  const named = ZONES[z.toUpperCase()];
  if (named !== undefined) return named;
  const m = /^([+-])(\d{2}):?(\d{2})?$/.exec(z);
  if (!m) return undefined;
  const minutes = Number(m[2]) * 60 + Number(m[3] ?? 0);
  if (Number(m[2]) > 23 || Number(m[3] ?? 0) > 59) return undefined;
  return m[1] === "-" ? -minutes : minutes;
}

function monthIndex(name: string): number | undefined {
  const n = name.toLowerCase().replace(/\.$/, "");
  const full = FULL_MONTHS.indexOf(n);
  if (full >= 0) return full + 1;
  const short = MONTHS.indexOf(n);
  return short >= 0 ? short + 1 : n === "sept" ? 9 : undefined;
}

/** chrono's `%y`: 00-68 are 2000-2068, 69-99 are 1969-1999. */
function fullYear(text: string): number {
  const y = Number(text);
  if (text.length > 2) return y;
  return y <= 68 ? 2000 + y : 1900 + y;
}

interface Parts {
  y: number;
  mo: number;
  d: number;
  h?: string;
  mi?: string;
  s?: string;
  frac?: string;
  ampm?: string;
  zone?: string;
}

function build(p: Parts): Instant | undefined {
  if (!validDate(p.y, p.mo, p.d)) return undefined;
  let h = Number(p.h ?? 0);
  const mi = Number(p.mi ?? 0);
  const s = Number(p.s ?? 0);
  if (p.ampm) {
    if (h < 1 || h > 12) return undefined;
    const pm = p.ampm.toLowerCase() === "pm";
    h = (h % 12) + (pm ? 12 : 0);
  }
  if (h > 23 || mi > 59 || s > 60) return undefined;
  const offset = zoneMinutes(p.zone);
  if (offset === undefined) return undefined;
  const frac = (p.frac ?? "").padEnd(9, "0").slice(0, 9);
  const nanos = Number(frac || 0);
  // setUTCFullYear, not Date.UTC, which maps years 0-99 to 1900-1999.
  const date = new Date(0);
  date.setUTCFullYear(p.y, p.mo - 1, p.d);
  date.setUTCHours(h, mi, s, 0);
  const fixed = date.getTime() - offset * 60_000 + Math.floor(nanos / 1_000_000);
  return Number.isFinite(fixed) ? { ms: fixed, subMsNanos: nanos % 1_000_000 } : undefined;
}

const TIME = String.raw`(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\.(\d{1,9}))?\s*([AaPp][Mm])?`;
const ZONE = String.raw`(Z|z|[+-]\d{2}(?::?\d{2})?|[A-Za-z]{1,5})`;

type Rule = [RegExp, (m: RegExpExecArray) => Parts | undefined];

/** The formats, tried in dateparser's order. */
const RULES: Rule[] = [
  // RFC 3339 and ISO-ish `YYYY-MM-DD[T ]HH:MM[:SS][.f][ ][AM|PM][zone]` (rfc3339, postgres, ymd_hms, ymd_hms_z, and the chrono fallbacks).
  [
    new RegExp(String.raw`^(\d{4})-(\d{2})-(\d{2})(?:[Tt]|\s+)${TIME}\s*${ZONE}?$`),
    (m) => ({ y: Number(m[1]), mo: Number(m[2]), d: Number(m[3]), h: m[4], mi: m[5], s: m[6], frac: m[7], ampm: m[8], zone: m[9] }),
  ],
  // ymd and ymd_z: `YYYY-MM-DD`, `YYYY-MM-DD UTC`, `YYYY-MM-DD+08:00`.
  [new RegExp(String.raw`^(\d{4})-(\d{2})-(\d{2})\s*${ZONE}?$`), (m) => ({ y: Number(m[1]), mo: Number(m[2]), d: Number(m[3]), zone: m[4] })],
  // month_ymd: `2021-Feb-21`.
  [/^(\d{4})-([A-Za-z]{3,9})-(\d{2})$/, (m) => withMonth(m[2]!, { y: Number(m[1]), d: Number(m[3]) })],
  // RFC 2822: `Wed, 02 Jun 2021 06:31:39 GMT`.
  [
    /^(?:[A-Za-z]{3},\s*)?(\d{1,2})\s+([A-Za-z]{3})\s+(\d{2,4})\s+(\d{2}):(\d{2})(?::(\d{2}))?\s+([A-Za-z]{1,5}|[+-]\d{4})$/,
    (m) => withMonth(m[2]!, { y: fullYear(m[3]!), d: Number(m[1]), h: m[4], mi: m[5], s: m[6], zone: m[7] }),
  ],
  // month_mdy family: `May 25, 2021`, `May 8, 2009 5:57:51 PM`, `September 17, 2012, 10:10:09`, `May 02, 2021 15:51:31 UTC`.
  [
    new RegExp(String.raw`^([A-Za-z]{3,9}\.?)\s+(\d{1,2}),?\s+(\d{2,4})(?:,?\s*(?:at)?\s+${TIME}(?:\s+${ZONE})?)?$`),
    (m) => withMonth(m[1]!, { y: fullYear(m[3]!), d: Number(m[2]), h: m[4], mi: m[5], s: m[6], frac: m[7], ampm: m[8], zone: m[9] }),
  ],
  // month_dmy family: `7 oct 1970`, `12 Feb 2006, 19:17`, `14 May 2019 19:11:40.164`.
  [
    new RegExp(String.raw`^(\d{1,2})\s+([A-Za-z]{3,9})\s+(\d{2,4})(?:,?\s+${TIME})?$`),
    (m) => withMonth(m[2]!, { y: fullYear(m[3]!), d: Number(m[1]), h: m[4], mi: m[5], s: m[6], frac: m[7], ampm: m[8] }),
  ],
  // slash_mdy family: `3/31/2014`, `4/8/14 22:05`, `8/8/1965 01:00:01 PM`.
  [
    new RegExp(String.raw`^(\d{1,2})/(\d{1,2})/(\d{2,4})(?:\s+${TIME})?$`),
    (m) => ({ y: fullYear(m[3]!), mo: Number(m[1]), d: Number(m[2]), h: m[4], mi: m[5], s: m[6], frac: m[7], ampm: m[8] }),
  ],
  // slash_ymd family: `2014/3/31`, `2012/03/19 10:11:59.3186369`.
  [
    new RegExp(String.raw`^(\d{4})/(\d{1,2})/(\d{1,2})(?:\s+${TIME})?$`),
    (m) => ({ y: Number(m[1]), mo: Number(m[2]), d: Number(m[3]), h: m[4], mi: m[5], s: m[6], frac: m[7], ampm: m[8] }),
  ],
  // dot_mdy_or_ymd: `3.31.2014`, `08.21.71`, `2014.03.30`.
  [/^(\d{1,2})\.(\d{1,2})\.(\d{2,4})$/, (m) => ({ y: fullYear(m[3]!), mo: Number(m[1]), d: Number(m[2]) })],
  [/^(\d{4})\.(\d{1,2})\.(\d{1,2})$/, (m) => ({ y: Number(m[1]), mo: Number(m[2]), d: Number(m[3]) })],
  // mysql_log_timestamp: `171113 14:14:20`.
  [/^(\d{2})(\d{2})(\d{2})\s+(\d{2}):(\d{2}):(\d{2})$/, (m) => ({ y: fullYear(m[1]!), mo: Number(m[2]), d: Number(m[3]), h: m[4], mi: m[5], s: m[6] })],
];

function withMonth(name: string, rest: Omit<Parts, "mo">): Parts | undefined {
  const mo = monthIndex(name);
  return mo === undefined ? undefined : { ...rest, mo };
}

/** Parses a date-time string the way airbyte-to-flow does (see the module comment); undefined when it cannot. */
export function parseLooseDateTime(value: string): Instant | undefined {
  const text = value.trim();
  if (/^[0-9]{10}$|^[0-9]{13}$|^[0-9]{19}$/.test(text)) {
    if (text.length === 10) return { ms: Number(text) * 1000, subMsNanos: 0 };
    if (text.length === 13) return { ms: Number(text), subMsNanos: 0 };
    const nanos = BigInt(text);
    return { ms: Number(nanos / 1_000_000n), subMsNanos: Number(nanos % 1_000_000n) };
  }
  for (const [re, parts] of RULES) {
    const m = re.exec(text);
    if (!m) continue;
    const p = parts(m);
    const instant = p && build(p);
    if (instant) return instant;
  }
  return undefined;
}
