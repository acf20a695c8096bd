// Starts a nats-server with JetStream on a free loopback port and a temporary store, for a demo
// or a manual cluster run: `node scripts/nats.mjs [--port 4222]`. Prints the URL; Ctrl-C stops it.
// Tests use the same code (test/cluster/nats-server.ts) directly. Needs `npm run build` first and
// Debian's nats-server package (`apt-get install -y nats-server`) or $HSU_NATS_SERVER.
import { NatsServer } from '../dist/test/cluster/nats-server.js';

const portFlag = process.argv.indexOf('--port');
const port = portFlag === -1 ? undefined : Number(process.argv[portFlag + 1]);
const server = await NatsServer.start(port === undefined ? {} : { port });
process.stdout.write(`${server.url}\n`);
const stop = () => void server.dispose().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
