// A parser for timestamptz values as PostgreSQL sends them in text with DateStyle ISO
// (`2026-11-23 09:30:00.123456+00`, offsets like `+05:30` or `-03:00:00`). The driver's own
// parser runs a regular expression per value and was ~20 µs of every digest the fan-out sends
// (a digest's rows carry several timestamps each): this one reads the digits in place. Anything
// else (BC dates, infinity, years before 100 or after 9999, another DateStyle) goes to the
// driver's parser, so the result is always the driver's.

const digit = (s: string, i: number): number => {
  const c = s.charCodeAt(i) - 48;
  return c >= 0 && c <= 9 ? c : NaN;
};

const two = (s: string, i: number) => digit(s, i) * 10 + digit(s, i + 1);

/** The Date for `value`, or undefined when it is not in the common form (use the fallback). */
export function parseIsoTimestamptz(value: string): Date | undefined {
  const n = value.length;
  if (n < 22 || value[4] !== '-' || value[7] !== '-' || value[10] !== ' ' || value[13] !== ':' || value[16] !== ':') return undefined;
  const year = two(value, 0) * 100 + two(value, 2);
  const month = two(value, 5);
  const day = two(value, 8);
  const hour = two(value, 11);
  const minute = two(value, 14);
  const second = two(value, 17);
  let i = 19;
  let ms = 0;
  if (value[i] === '.') {
    // Milliseconds are the first three digits (a Date holds no more); the rest is dropped.
    let scale = 100;
    for (i++; i < n; i++) {
      const d = digit(value, i);
      if (Number.isNaN(d)) break;
      if (scale >= 1) ms += d * scale;
      scale /= 10;
    }
  }
  const sign = value[i] === '+' ? 1 : value[i] === '-' ? -1 : 0;
  if (sign === 0 || i + 3 > n) return undefined;
  let offset = two(value, i + 1) * 3600;
  i += 3;
  if (value[i] === ':') {
    offset += two(value, i + 1) * 60;
    i += 3;
  }
  if (value[i] === ':') {
    offset += two(value, i + 1);
    i += 3;
  }
  if (i !== n || year < 100) return undefined;
  const t = Date.UTC(year, month - 1, day, hour, minute, second, ms) - sign * offset * 1000;
  return Number.isNaN(t) ? undefined : new Date(t);
}

/** A driver type parser: the fast path, else `fallback`. */
export function timestamptzParser(fallback: (value: string) => unknown): (value: string) => unknown {
  return (value: string) => parseIsoTimestamptz(value) ?? fallback(value);
}
