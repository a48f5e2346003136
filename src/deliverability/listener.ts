import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerDataStream } from 'smtp-server';
import type { Logger } from '../logger.js';
import type { InboundMailService } from './inbound.js';

// The inbound SMTP listener (ROLES=bounces): where the relay sends bounces for the VERP return
// path and where providers' feedback loops send complaint reports. It takes mail for those
// addresses only (others are refused at RCPT TO, so it is no open relay and no mailbox), caps
// the size (refused at DATA), and limits each client's connections and messages per minute.
// A message is answered 250 only once it is stored: the relay keeps (and retries) anything else.

export interface ListenerOptions {
  host: string;
  port: number;
  maxBytes: number;
  /** Connections plus messages per client address per minute. */
  ratePerMinute: number;
  /** The name in the greeting. */
  serverName?: string;
}

export interface InboundListener {
  port: number;
  close(): Promise<void>;
}

const smtpError = (code: number, message: string) => Object.assign(new Error(message), { responseCode: code });

/** A fixed one-minute window per client address; old windows are forgotten as they pass. */
class ClientBudget {
  private windows = new Map<string, { start: number; used: number }>();
  constructor(private readonly perMinute: number) {}
  take(client: string, now = Date.now()): boolean {
    if (this.windows.size > 10_000) for (const [k, w] of this.windows) if (now - w.start >= 60_000) this.windows.delete(k);
    const w = this.windows.get(client);
    if (!w || now - w.start >= 60_000) {
      this.windows.set(client, { start: now, used: 1 });
      return true;
    }
    w.used++;
    return w.used <= this.perMinute;
  }
}

function readAll(stream: SMTPServerDataStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (c: Buffer) => {
      // Past the cap the rest is read and thrown away (smtp-server needs the stream drained).
      if (!stream.sizeExceeded) {
        chunks.push(c);
        size += c.length;
      }
    });
    stream.on('end', () => resolve(Buffer.concat(chunks, size)));
    stream.on('error', reject);
  });
}

export async function startInboundListener(inbound: InboundMailService, logger: Logger, opts: ListenerOptions): Promise<InboundListener> {
  const budget = new ClientBudget(opts.ratePerMinute);
  const server = new SMTPServer({
    name: opts.serverName,
    banner: 'topic-alerts bounce and complaint listener',
    // Relays hand bounces over on a private network; no accounts, so no AUTH (and no TLS keys to manage).
    disabledCommands: ['AUTH', 'STARTTLS'],
    authOptional: true,
    disableReverseLookup: true,
    size: opts.maxBytes,
    maxClients: 50,
    socketTimeout: 60_000,
    closeTimeout: 5_000,
    logger: false,
    onConnect(session, callback) {
      if (!budget.take(session.remoteAddress)) return callback(smtpError(421, 'Too many connections from your address; try again later'));
      callback();
    },
    onMailFrom(_address, session, callback) {
      if (!budget.take(session.remoteAddress)) return callback(smtpError(451, 'Too many messages from your address; try again later'));
      callback();
    },
    onRcptTo(address, _session, callback) {
      if (!inbound.accepts(address.address)) return callback(smtpError(550, `5.1.1 <${address.address}>: no such recipient here`));
      callback();
    },
    onData(stream, session, callback) {
      readAll(stream).then(
        async (raw) => {
          if (stream.sizeExceeded) return callback(smtpError(552, `5.3.4 Message exceeds the fixed maximum size of ${opts.maxBytes} bytes`));
          const mailFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : null;
          try {
            const outcome = await inbound.receive(raw, { mailFrom, rcptTo: session.envelope.rcptTo.map((r) => r.address), remoteAddress: session.remoteAddress });
            callback(null, `2.0.0 Received as ${outcome.id} (${outcome.status})`);
          } catch (err) {
            // Not stored: a temporary failure, so the relay keeps the message and tries again.
            logger.error({ err }, 'inbound mail could not be stored');
            callback(smtpError(451, '4.3.0 Could not store the message; try again later'));
          }
        },
        (err: unknown) => {
          logger.warn({ err }, 'inbound message stream failed');
          callback(smtpError(451, '4.3.0 Could not read the message; try again later'));
        },
      );
    },
  });
  // A client that resets or misbehaves is that connection's problem, never the process's.
  server.on('error', (err) => logger.debug({ err: (err as Error).message }, 'inbound SMTP connection error'));
  // smtp-server listens for socket errors only from the next turn of the event loop: a reset
  // in that gap must not reach the process as an unhandled 'error'.
  server.server.on('connection', (socket) => socket.on('error', () => {}));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.server.address() as AddressInfo).port;
  logger.info({ host: opts.host, port }, 'inbound SMTP listener started');
  return {
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
