// Calendar arithmetic in a subscriber's time zone, for "daily at 08:00 in Asia/Tokyo" and
// "weekly on Friday at 07:00". Intl gives local wall-clock parts; the UTC instant of a local
// time is found by correcting a first guess with the zone's offset (twice, for DST edges).

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      weekday: 'short',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

const WEEKDAY: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

export interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  weekday: number;
}

export function localParts(instant: Date, timeZone: string): LocalParts {
  const p: Record<string, string> = {};
  for (const part of formatter(timeZone).formatToParts(instant)) p[part.type] = part.value;
  return {
    year: Number(p.year),
    month: Number(p.month),
    day: Number(p.day),
    hour: Number(p.hour),
    minute: Number(p.minute),
    second: Number(p.second),
    weekday: WEEKDAY[p.weekday!]!,
  };
}

function offsetMs(instant: Date, timeZone: string): number {
  const l = localParts(instant, timeZone);
  return Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second) - Math.floor(instant.getTime() / 1000) * 1000;
}

/** The UTC instant of a local wall-clock time (month 1-12; day may overflow, Date.UTC normalises). */
export function zonedTime(year: number, month: number, day: number, hour: number, timeZone: string): Date {
  const guess = Date.UTC(year, month - 1, day, hour);
  let t = guess - offsetMs(new Date(guess), timeZone);
  t = guess - offsetMs(new Date(t), timeZone);
  return new Date(t);
}

const isoDate = (utcMs: number) => new Date(utcMs).toISOString().slice(0, 10);

export interface Slot {
  /** The local date of the slot: part of the delivery's idempotency key. */
  period: string;
  /** When the slot began (UTC): a digest carries what matched before it. */
  at: Date;
}

/** The most recent daily slot at or before `now`: today at `hour` local time, else yesterday's. */
export function lastDailySlot(now: Date, timeZone: string, hour: number): Slot {
  const l = localParts(now, timeZone);
  const back = l.hour >= hour ? 0 : 1;
  const day = Date.UTC(l.year, l.month - 1, l.day - back);
  const d = new Date(day);
  return { period: isoDate(day), at: zonedTime(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), hour, timeZone) };
}

/** The most recent weekly slot at or before `now`: the last `weekday` at `hour` local time. */
export function lastWeeklySlot(now: Date, timeZone: string, weekday: number, hour: number): Slot {
  const l = localParts(now, timeZone);
  let back = (l.weekday - weekday + 7) % 7;
  if (back === 0 && l.hour < hour) back = 7;
  const day = Date.UTC(l.year, l.month - 1, l.day - back);
  const d = new Date(day);
  return { period: isoDate(day), at: zonedTime(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), hour, timeZone) };
}

/** The instant batch window containing `now`. */
export function instantSlot(now: Date, batchMinutes: number): Slot {
  const size = batchMinutes * 60_000;
  const start = Math.floor(now.getTime() / size) * size;
  return { period: new Date(start).toISOString().slice(0, 16), at: now };
}
