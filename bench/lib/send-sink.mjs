// Plain JavaScript, forked by bench/lib/sink.ts without a loader (an IPC channel, no tsx).
// An SMTP sink for the send and fanout benchmarks, in its own process so its CPU is not the
// benchmark's: accepts every message, reads it to the end, counts it. It sends {type:'listening',
// port} once listening and answers {type:'count'} with the totals.
import { SMTPServer } from 'smtp-server';

let count = 0;
let bytes = 0;
let withDeliveryId = 0;

const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS', 'AUTH'],
  disableReverseLookup: true,
  logger: false,
  closeTimeout: 100,
  size: 50 * 1024 * 1024,
  onData(stream, _session, callback) {
    let head = '';
    let seen = false;
    stream.on('data', (chunk) => {
      bytes += chunk.length;
      // a cheap check that what arrives is our mail: X-Delivery-Id in the header block
      if (seen || head.length > 8192) return;
      head += chunk.toString('latin1');
      if (/(^|\n)X-Delivery-Id:/i.test(head)) {
        seen = true;
        withDeliveryId++;
      }
    });
    stream.on('end', () => {
      count++;
      callback();
    });
  },
});

server.listen(0, '127.0.0.1', () => {
  process.send({ type: 'listening', port: server.server.address().port });
});
process.on('message', (m) => {
  if (m.type === 'count') process.send({ type: 'count', count, bytes, withDeliveryId });
  if (m.type === 'close') server.close(() => process.exit(0));
});
process.on('disconnect', () => process.exit(0));
