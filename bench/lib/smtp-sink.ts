// An SMTP sink in its own process for the benchmarks: accepts everything and prints, per
// message, the X-Delivery-Id header (or "-"), one per line, so the parent can count deliveries
// and duplicates without sharing a CPU-bound event loop with the sender.
import { SMTPServer } from 'smtp-server';

const port = Number(process.argv[2] ?? 0);
const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS', 'AUTH'],
  logger: false,
  size: 10 * 1024 * 1024,
  onData(stream, _session, callback) {
    let head = '';
    let done = false;
    stream.on('data', (chunk: Buffer) => {
      if (done) return;
      head += chunk.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end >= 0) {
        done = true;
        head = head.slice(0, end);
      }
    });
    stream.on('end', () => {
      const id = /^X-Delivery-Id:\s*(\d+)/im.exec(head)?.[1] ?? '-';
      process.stdout.write(`${id}\n`);
      callback();
    });
  },
});
server.listen(port, '127.0.0.1', () => {
  const address = server.server.address() as { port: number };
  process.stdout.write(`listening ${address.port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
