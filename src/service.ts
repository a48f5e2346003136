import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from './config/index.js';
import { createContext, type AppContext, type ContextOverrides } from './context.js';
import { migrateToLatest } from './db/migrator.js';
import { createApp } from './http/app.js';
import { registerWorkerJobs } from './jobs/index.js';

export interface RunningService {
  ctx: AppContext;
  server?: Server;
  /** The address the web role listens on (http://host:port), when it runs. */
  url?: string;
  stop(): Promise<void>;
}

/** Starts the roles the config asks for: migrations first, then web and/or worker. */
export async function startService(config: Config, overrides: ContextOverrides = {}): Promise<RunningService> {
  const ctx = await createContext(config, overrides);
  const { logger } = ctx;
  const welcome: string[] = [];
  try {
    if (config.database.migrateOnStart) {
      const { applied } = await migrateToLatest(ctx.database.db);
      if (applied.length > 0) logger.info({ applied }, 'migrations applied');
    }
    await ctx.matcher.start();
    // Development: a marked placeholder so signup can be tried at once. Production refuses
    // signups (503) until an admin publishes real terms.
    if (!config.isProduction) await ctx.services.terms.ensurePlaceholder();
    if (config.demoSeed && (await ctx.services.demo.isEmpty())) {
      const seeded = await ctx.services.demo.seed();
      logger.info(seeded, 'empty database: demo topics and article seeded (DEMO_SEED=false to skip)');
      // Development only, once: a token to try the admin API with. Shown on the console, never logged.
      const { token } = await ctx.services.tokens.create('development', ['admin'], 'system:demo');
      welcome.push(`Admin API token (development, shown once): ${token}`);
    }
    // Development's first start: a console account, its password shown once here, never logged.
    if (config.env === 'development') {
      const admin = await ctx.services.admin.ensureDevelopmentAdmin();
      if (admin) welcome.push(`Admin console login (development, shown once): ${admin.email}  password ${admin.password}`);
    }
  } catch (err) {
    await ctx.close();
    throw err;
  }

  if (config.roles.includes('worker')) {
    registerWorkerJobs(ctx);
    ctx.jobs.start();
  }

  let server: Server | undefined;
  let url: string | undefined;
  if (config.roles.includes('web')) {
    const app = createApp(ctx);
    server = await new Promise<Server>((resolve, reject) => {
      const s = app.listen(config.http.port, config.http.host, (err?: Error) => (err ? reject(err) : resolve(s)));
    });
    const addr = server.address() as AddressInfo;
    const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    url = `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${addr.port}`;
  }
  logger.info({ roles: config.roles, engine: ctx.database.engine, url }, 'topic-alerts started');
  if (welcome.length > 0) {
    const base = config.http.baseUrl;
    process.stdout.write(
      [
        '',
        `topic-alerts is running at ${base}`,
        `  Demo article with the signup box:  ${base}/demo`,
        `  Mail the service "sent":           ${base}/dev/mail`,
        `  Admin console:                     ${base}/admin`,
        ...welcome.map((l) => `  ${l}`),
        '',
      ].join('\n') + '\n',
    );
  }

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      logger.info('shutting down: no new requests, finishing what is in flight');
      if (server) {
        const s = server;
        const closed = new Promise<void>((resolve) => s.close(() => resolve()));
        s.closeIdleConnections();
        // Keep-alive sockets with a request in flight close after their response; anything
        // still open when the grace period ends is cut so the process exits in time.
        const force = setTimeout(() => s.closeAllConnections(), config.shutdownTimeoutMs);
        force.unref();
        await closed;
        clearTimeout(force);
      }
      await ctx.close();
      logger.info('stopped');
    })());

  return { ctx, server, url, stop };
}
