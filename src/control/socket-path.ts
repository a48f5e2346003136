import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';

// Unix socket paths are limited to ~107 bytes; a deep PGLITE_DIR would not fit, so a long one
// maps to a fixed name in the temporary directory that both sides derive the same way.
const MAX_SOCKET_PATH = 100;

/**
 * Where the service that holds an embedded database listens for the operator's commands: beside
 * the database, so whoever may open the database files may also talk to it, and nobody else.
 */
export function controlSocketPath(pgliteDir: string): string {
  const dir = path.resolve(pgliteDir);
  const beside = path.join(dir, '.topic-alerts.sock');
  if (Buffer.byteLength(beside) <= MAX_SOCKET_PATH) return beside;
  return path.join(tmpdir(), `topic-alerts-${createHash('sha256').update(dir).digest('hex').slice(0, 16)}.sock`);
}
