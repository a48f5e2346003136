import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger } from 'pino';

// Paths whose values are personal data or secrets. pino's redaction runs on every log line,
// so a careless `log.info({ email })` still writes no address.
const REDACT_PATHS = [
  'email',
  '*.email',
  'to',
  '*.to',
  'password',
  '*.password',
  'token',
  '*.token',
  'secret',
  '*.secret',
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'req.body',
];

// Token-bearing paths: the token is a bearer credential, so it never reaches a log line.
const TOKEN_PATH = /^(\/(?:confirm|decline|unsubscribe|preferences)\/)[^/?#]+/;

/** The request path for logs: tokens masked, query string dropped (it may carry an address). */
export function redactUrl(url: string): string {
  const path = url.split('?')[0] ?? '';
  return path.replace(TOKEN_PATH, '$1[redacted]') + (url.includes('?') ? '?[redacted]' : '');
}

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      base: { service: 'topic-alerts' },
    },
    destination,
  );
}
