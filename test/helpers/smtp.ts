import net from 'node:net';
import { SMTPServer, type SMTPServerAddress, type SMTPServerSession } from 'smtp-server';

export interface ReceivedMail {
  raw: Buffer;
  mailFrom: string;
  rcptTo: string[];
}

export interface TestSmtpServer {
  port: number;
  url: string;
  received: ReceivedMail[];
  close(): Promise<void>;
}

type Reject = { code: number; message: string } | undefined;

/** smtp-server on 127.0.0.1, random port, no TLS or auth; collects every message it accepts. */
export async function startSmtpServer(
  opts: {
    rejectRcpt?: (address: string) => Reject;
    rejectData?: (session: SMTPServerSession) => Reject;
  } = {},
): Promise<TestSmtpServer> {
  const received: ReceivedMail[] = [];
  const smtpError = (r: NonNullable<Reject>) => Object.assign(new Error(r.message), { responseCode: r.code });
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onRcptTo(address: SMTPServerAddress, _session, callback) {
      const r = opts.rejectRcpt?.(address.address);
      callback(r ? smtpError(r) : undefined);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const r = opts.rejectData?.(session);
        if (r) return callback(smtpError(r));
        const mailFrom = session.envelope.mailFrom;
        received.push({
          raw: Buffer.concat(chunks),
          mailFrom: mailFrom ? mailFrom.address : '',
          rcptTo: session.envelope.rcptTo.map((a) => a.address),
        });
        callback();
      });
    },
  });
  await listenSmtp(server, 0);
  const port = (server.server.address() as net.AddressInfo).port;
  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Errors that only mean the client went away (e.g. a SIGKILLed process's sockets were reset). */
const PEER_GONE = new Set(['ECONNRESET', 'EPIPE']);

export function isPeerGone(err: unknown): boolean {
  return PEER_GONE.has((err as NodeJS.ErrnoException | undefined)?.code ?? '');
}

/**
 * Starts `server` on 127.0.0.1:`port` and gives it lasting 'error' listeners for the clients that
 * go away. smtp-server (3.21) keeps a reset quiet only outside a mail transaction: a client that
 * dies after MAIL FROM (a killed worker's pooled connection, mid-message) makes the connection
 * emit 'error', which the server re-emits as its own 'error' event; with no listener Node throws
 * it, and vitest fails the run on the "Unhandled Error" even though every test passed. A
 * `once('error', reject)` left over from listen() is no fix: it eats the first such error
 * (and any real one) and the second is thrown.
 *
 * Only ECONNRESET/EPIPE are expected. Anything else is thrown as before, so it still fails the
 * run instead of being swallowed.
 */
export async function listenSmtp(server: SMTPServer, port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => {
    if (!isPeerGone(err)) throw err;
  });
  // smtp-server attaches its own socket 'error' listener only on the next turn of the event loop
  // (setImmediate in _handleProxy, then SMTPConnection); a reset inside that gap would hit a socket
  // with no listener. Cover the gap for peer resets; once SMTPConnection listens, errors go through
  // it to the server listener above, so other errors are left to it (or thrown if it is not there yet).
  server.server.on('connection', (socket: net.Socket) => {
    socket.on('error', (err) => {
      if (!isPeerGone(err) && socket.listenerCount('error') === 1) throw err;
    });
  });
}

/** A port on 127.0.0.1 that nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', () => resolve()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/** The raw header block of a message, unfolded into one string per field. */
export function rawHeaderFields(raw: Buffer | string): string[] {
  const text = raw.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  const block = end === -1 ? text : text.slice(0, end);
  return block
    .split('\r\n')
    .reduce<string[]>((fields, line) => {
      if (/^[ \t]/.test(line) && fields.length > 0) fields[fields.length - 1] += `\r\n${line}`;
      else fields.push(line);
      return fields;
    }, [])
    .map((f) => f.replace(/\r\n(?=[ \t])/g, ''));
}

export function headerValues(fields: string[], name: string): string[] {
  const prefix = `${name.toLowerCase()}:`;
  return fields.filter((f) => f.toLowerCase().startsWith(prefix)).map((f) => f.slice(prefix.length).trim());
}
