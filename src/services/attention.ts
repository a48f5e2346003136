import type { Subscriber } from '../repositories/subscribers.js';
import { localParts, zonedTime } from './schedule-time.js';

// Attention controls: a reader's quiet hours (instant alerts held until they end) and their cap
// on instant alerts a day (the rest wait for the next daily digest). A reader who chose nothing
// gets the publisher's defaults (QUIET_HOURS, INSTANT_DAILY_CAP).

export interface QuietHours {
  /** Local hours: quiet from `start`:00 up to `end`:00, across midnight when end < start. */
  start: number;
  end: number;
}

export interface AttentionDefaults {
  quietHours: QuietHours | null;
  instantDailyCap: number;
}

type Controls = Pick<Subscriber, 'quietStart' | 'quietEnd' | 'instantDailyCap'>;

/** The quiet hours in force for a reader; null when none (a reader's start = end turns them off). */
export function quietHoursOf(s: Controls, defaults: AttentionDefaults): QuietHours | null {
  if (s.quietStart === null || s.quietEnd === null) return defaults.quietHours;
  return s.quietStart === s.quietEnd ? null : { start: s.quietStart, end: s.quietEnd };
}

/** The reader's cap on instant alerts a day; 0 for none. */
export function instantCapOf(s: Controls, defaults: AttentionDefaults): number {
  return s.instantDailyCap ?? defaults.instantDailyCap;
}

export function inQuietHours(now: Date, timeZone: string, q: QuietHours | null): boolean {
  if (!q || q.start === q.end) return false;
  const h = localParts(now, timeZone).hour;
  return q.start < q.end ? h >= q.start && h < q.end : h >= q.start || h < q.end;
}

/** The start of the reader's local day: what "a day" of the cap counts from. */
export function localMidnight(now: Date, timeZone: string): Date {
  const l = localParts(now, timeZone);
  return zonedTime(l.year, l.month, l.day, 0, timeZone);
}
