import { chmodSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AppContext } from '../context.js';
import { DomainError } from '../errors.js';
import { COMMANDS, UsageError, type Values } from '../cli/commands.js';
import { controlSocketPath } from './socket-path.js';

const MAX_REQUEST_BYTES = 64 * 1024;

export interface ControlServer {
  path: string;
  close(): Promise<void>;
}

/**
 * The running service's side of `npm run cli` on an embedded database. PGlite is one process's
 * database, so a second terminal's CLI cannot open it; it sends the command here instead and the
 * service runs it on its own context. A Unix socket (mode 0600, beside the database files), not
 * a TCP port: only the operating-system user who may read the database may connect, and it works
 * for a worker-only process too. Arguments (a password, say) are never logged.
 */
export async function startControlServer(ctx: AppContext, pgliteDir: string): Promise<ControlServer> {
  const socketPath = controlSocketPath(pgliteDir);
  const server: Server = createServer((req, res) => {
    const answer = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'POST' || req.url !== '/v1/run') return answer(404, { error: { message: 'unknown control request' } });
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_REQUEST_BYTES) req.destroy();
      else chunks.push(c);
    });
    req.on('end', () => {
      void (async () => {
        let name = '';
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { command?: unknown; values?: unknown };
          name = typeof body.command === 'string' ? body.command : '';
          const command = COMMANDS[name];
          if (!command) throw new UsageError(`unknown command "${name}"`);
          const values = (body.values && typeof body.values === 'object' ? body.values : {}) as Values;
          const refused = command.notWhileRunning?.(values);
          if (refused) throw new UsageError(`${refused}: stop the service (process ${process.pid}) first, then run it again`);
          command.check?.(values, { isProduction: ctx.config.isProduction });
          ctx.logger.info({ command: name }, 'command from the CLI');
          answer(200, await command.run(ctx, values));
        } catch (err) {
          const known = err instanceof UsageError || err instanceof DomainError || err instanceof SyntaxError;
          if (!known) ctx.logger.error({ err, command: name }, 'command from the CLI failed');
          answer(known ? 400 : 500, { error: { message: err instanceof Error ? err.message : String(err) } });
        }
      })();
    });
  });
  await listen(server, socketPath);
  chmodSync(socketPath, 0o600);
  return {
    path: socketPath,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }).finally(() => rmSync(socketPath, { force: true })),
  };
}

async function listen(server: Server, socketPath: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(socketPath, () => {
          server.off('error', reject);
          resolve();
        });
      });
      return;
    } catch (err) {
      // A socket file left by a process that died: this process holds the database lock, so
      // nobody else can be listening on it.
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt > 0) throw err;
      rmSync(socketPath, { force: true });
    }
  }
}
