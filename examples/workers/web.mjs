// An integrated process worker: the master picks a free loopback port and passes it as $PORT; the
// worker counts as running once GET /health answers 2xx (its readiness and health probe).
import http from 'node:http';

let hits = 0;
const server = http.createServer((req, res) => {
  if (req.url === '/health') {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    return;
  }
  hits += 1;
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ hello: 'from web', pid: process.pid, hits }));
});
server.listen(Number(process.env.PORT), '127.0.0.1', () => console.log(`web listening on 127.0.0.1:${process.env.PORT}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
