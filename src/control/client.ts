import { request } from 'node:http';
import type { CommandOutput, Values } from '../cli/commands.js';

/** Thrown when nothing answers on the socket (an older service, or one that is starting). */
export class ControlUnavailable extends Error {}

/** Asks the service listening on `socketPath` to run a CLI command; its error message is thrown as is. */
export function runThroughService(socketPath: string, command: string, values: Values, timeoutMs = 600_000): Promise<CommandOutput> {
  const body = JSON.stringify({ command, values });
  return new Promise<CommandOutput>((resolve, reject) => {
    const req = request({ socketPath, path: '/v1/run', method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }, timeout: timeoutMs });
    req.on('timeout', () => req.destroy(new Error(`the service did not answer within ${Math.round(timeoutMs / 1000)} s`)));
    req.on('error', (err: NodeJS.ErrnoException) => {
      reject(err.code === 'ENOENT' || err.code === 'ECONNREFUSED' ? new ControlUnavailable(err.message) : err);
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        try {
          const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as CommandOutput & { error?: { message: string } };
          if (res.statusCode === 200) resolve({ notes: parsed.notes ?? [], result: parsed.result });
          else reject(new Error(parsed.error?.message ?? `the service answered ${res.statusCode}`));
        } catch {
          reject(new Error(`the service answered ${res.statusCode} with something that is not JSON`));
        }
      });
    });
    req.end(body);
  });
}
