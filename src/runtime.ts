import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from './config/index.js';
import { createContext, type AppContext, type ContextOverrides } from './context.js';
import { migrateToLatest } from './db/migrator.js';
import { createApp } from './http/app.js';
import { registerWorkerJobs } from './jobs/index.js';
import { startControlServer, type ControlServer } from './control/server.js';
import { startInboundListener, type InboundListener } from './deliverability/listener.js';

export interface RunningService {
  ctx: AppContext;
  server?: Server;
  /** The address the web role listens on (http://host:port), when it runs. */
  url?: string;
  /** The bounces role's SMTP listener, when it runs. */
  inbound?: InboundListener;
  stop(): Promise<void>;
}

/** Starts the roles the config asks for: migrations first, then web and/or worker. */
export async function startService(config: Config, overrides: ContextOverrides = {}): Promise<RunningService> {
  const ctx = await createContext(config, overrides);
  const { logger } = ctx;
  // Lines for the development welcome block: credentials only in the run that created them.
  const welcome: string[] = [];
  let control: ControlServer | undefined;
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
      else welcome.push('Forgot the console password? npm run cli -- admin:password --email admin@localhost');
    }
    // The embedded database is this process's alone: the CLI in a second terminal sends its
    // commands here instead of opening it.
    if (ctx.database.dataDir) control = await startControlServer(ctx, ctx.database.dataDir);
  } catch (err) {
    await control?.close();
    await ctx.close();
    throw err;
  }

  if (config.roles.includes('worker')) {
    registerWorkerJobs(ctx);
    ctx.jobs.start();
  }

  let inbound: InboundListener | undefined;
  if (config.roles.includes('bounces')) {
    try {
      inbound = await startInboundListener(ctx.services.inbound, logger, { ...config.deliverability.listener, serverName: config.sending.bounceDomain });
    } catch (err) {
      await control?.close();
      await ctx.close();
      throw err;
    }
  }

  let server: Server | undefined;
  let url: string | undefined;
  if (config.roles.includes('web')) {
    const app = createApp(ctx);
    try {
      server = await new Promise<Server>((resolve, reject) => {
        const s = app.listen(config.http.port, config.http.host, (err?: Error) => (err ? reject(err) : resolve(s)));
      });
    } catch (err) {
      // The port is taken, say: release the database (and its lock) before the process reports it.
      await inbound?.close();
      await control?.close();
      await ctx.close();
      throw err;
    }
    const addr = server.address() as AddressInfo;
    const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    url = `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${addr.port}`;
  }
  logger.info({ roles: config.roles, engine: ctx.database.engine, url, inboundSmtpPort: inbound?.port }, 'topic-alerts started');
  // Every development start says where things are; a restart otherwise printed only JSON lines.
  if (config.env === 'development') {
    const base = config.http.baseUrl;
    process.stdout.write(
      [
        '',
        `topic-alerts is running at ${base}${server ? '' : ' (this process runs no web role)'}`,
        `  Demo article with the signup box:  ${base}/demo`,
        `  Mail the service "sent":           ${base}/dev/mail`,
        `  Admin console:                     ${base}/admin`,
        `  Commands, in a second terminal:    npm run cli -- help`,
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
      await inbound?.close();
      await control?.close();
      await ctx.close();
      logger.info('stopped');
    })());

  return { ctx, server, url, inbound, stop };
}
