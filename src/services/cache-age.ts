/**
 * Whether a value cached at `at` is still good at `now` (both from the injected clock). A clock
 * moved backwards (tests do) makes the entry stale rather than fresh for the distance moved.
 */
export function fresh(at: number, now: number, ttlMs: number): boolean {
  const age = now - at;
  return age >= 0 && age < ttlMs;
}
