// Whether an error means "the database is not there right now" (stopped, restarting, out of
// connections, unreachable) rather than "this request is wrong" or "our code is wrong". Such
// errors are answered 503 with Retry-After, never 500: the client should come back, and nothing
// it sent was half-written (every write is one transaction).

// SQLSTATE class 08 (connection exception), 53300 (too many connections), 57P01-57P03
// (admin shutdown, crash shutdown, cannot connect now: the server is starting or stopping).
const SQLSTATES = /^(08...|53300|57P0[123])$/;
// Node's socket errors and node-postgres's own messages for a connection that went away.
const NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
const MESSAGES = /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|the database system is (starting up|shutting down|in recovery mode)|terminating connection due to administrator command/i;

export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const { code, message, errors } = e as { code?: unknown; message?: unknown; errors?: unknown };
    if (typeof code === 'string' && (SQLSTATES.test(code) || NODE_CODES.has(code))) return true;
    if (typeof message === 'string' && MESSAGES.test(message)) return true;
    // AggregateError: connecting to "localhost" tries ::1 and 127.0.0.1, and both refuse.
    if (Array.isArray(errors) && errors.some((x) => isDatabaseUnavailable(x))) return true;
  }
  return false;
}

/** Seconds a client is asked to wait before trying again while the database is away. */
export const DATABASE_RETRY_AFTER_SECONDS = 5;
