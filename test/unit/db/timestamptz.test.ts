import { describe, expect, it } from 'vitest';
import pg from 'pg';
import { parseIsoTimestamptz, timestamptzParser } from '../../../src/db/timestamptz.js';

const driver = pg.types.getTypeParser(1184, 'text') as (value: string) => Date;
const pad = (n: number, w = 2) => String(n).padStart(w, '0');

describe('the timestamptz parser', () => {
  it('gives what the driver gives for ISO values, with and without fractions and offsets', () => {
    // A fixed pseudo-random walk over dates, fractions of 1–6 digits and offsets as PostgreSQL
    // prints them (hours, hours:minutes, hours:minutes:seconds for old local mean times).
    let x = 12345;
    const next = (m: number) => ((x = (x * 1103515245 + 12345) % 2147483648), x % m);
    const offsets = ['+00', '-05', '+05:30', '+05:45', '-03:30', '+14', '-12', '+00:19:32', '-00:44:30'];
    for (let k = 0; k < 5000; k++) {
      const frac = next(2) ? '' : `.${String(next(1_000_000)).padStart(6, '0').slice(0, 1 + next(6))}`;
      const value = `${1900 + next(200)}-${pad(1 + next(12))}-${pad(1 + next(28))} ${pad(next(24))}:${pad(next(60))}:${pad(next(60))}${frac}${offsets[k % offsets.length]}`;
      expect(parseIsoTimestamptz(value)?.getTime(), value).toBe(driver(value).getTime());
    }
    expect(parseIsoTimestamptz('2026-11-23 09:30:00.123456+00')?.toISOString()).toBe('2026-11-23T09:30:00.123Z');
    expect(parseIsoTimestamptz('2026-11-23 15:00:00+05:30')?.toISOString()).toBe('2026-11-23T09:30:00.000Z');
  });

  it('leaves every other form to the driver', () => {
    const parse = timestamptzParser(driver);
    for (const value of ['infinity', '-infinity', '0044-03-15 12:00:00+00 BC', '0099-01-01 00:00:00+00', '12345-01-01 00:00:00+00', '2026-11-23T09:30:00Z', '2026-11-23 09:30:00']) {
      expect(parseIsoTimestamptz(value), value).toBeUndefined();
      expect(parse(value), value).toEqual(driver(value));
    }
  });
});
