/** Whether Intl knows this IANA time zone name (config defaults and readers' choices alike). */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
