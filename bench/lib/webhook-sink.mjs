// A webhook receiver for bench:webhooks in its own process: answers every POST 200 once the
// body is read, counts requests and distinct webhook-ids; the parent asks over IPC.
import http from 'node:http';

let count = 0;
const ids = new Set();
const server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
  req.on('data', () => {});
  req.on('end', () => {
    count++;
    const id = req.headers['webhook-id'];
    if (id) ids.add(id);
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 2 });
    res.end('ok');
  });
});
server.listen(0, '127.0.0.1', () => process.send({ type: 'ready', port: server.address().port }));
process.on('message', (m) => {
  if (m.type === 'count') process.send({ type: 'count', count, distinct: ids.size });
  if (m.type === 'close') {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  }
});
