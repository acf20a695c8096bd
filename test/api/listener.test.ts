// The node:http listener on a real loopback socket: a chunked reply gives the event loop a turn
// between chunks (a 1,000-worker scrape is megabytes: written in one go it is one long stall),
// and every byte arrives in order; a body refused unread is read and dropped after the reply,
// within a bound, instead of leaving unread bytes for the kernel to answer with a reset.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, get, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { LINGER_MS, requestListener, type Handle, type ListenerOptions } from '../../src/api/http/listener.js';

const T = { timeout: 30_000 };
const CHUNKS = Array.from({ length: 40 }, (_, i) => `${String(i).padStart(2, '0')}${'x'.repeat(4094)}\n`);

async function serve(handle: Handle, options: ListenerOptions = {}): Promise<{ port: number; server: Server; close: () => Promise<void> }> {
  const server = createServer(requestListener(handle, options));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    server,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function serveChunks(onRequest: () => void): ReturnType<typeof serve> {
  return serve(() => {
    onRequest();
    return Promise.resolve({ status: 200, headers: { 'content-type': 'text/plain' }, chunks: CHUNKS });
  });
}

const REFUSED = { status: 413, headers: { 'content-type': 'application/json' }, body: '{"code":"HSU_ERR_API_BODY_TOO_LARGE"}' };

/** A raw client: everything it received so far, and a wait for a pattern in it or for the end. */
function rawClient(port: number): { socket: Socket; received: () => string; until: (pattern: RegExp) => Promise<void>; closed: Promise<void>; errors: string[] } {
  const socket = connect(port, '127.0.0.1');
  let text = '';
  const waiters = new Set<() => void>();
  socket.setEncoding('utf8').on('data', (chunk: string) => {
    text += chunk;
    for (const wake of waiters) wake();
  });
  const errors: string[] = [];
  socket.on('error', (error: NodeJS.ErrnoException) => errors.push(error.code ?? error.message)); // a reset or an EPIPE: bytes were left unread
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const until = (pattern: RegExp): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (!pattern.test(text)) return;
        waiters.delete(check);
        resolve();
      };
      waiters.add(check);
      void closed.then(() => (pattern.test(text) ? resolve() : reject(new Error(`closed before ${String(pattern)}; got: ${text.slice(0, 300)}`))));
      check();
    });
  return { socket, received: () => text, until, closed, errors };
}

const write = (socket: Socket, data: string | Buffer): Promise<void> => new Promise((resolve, reject) => socket.write(data, (error) => (error ? reject(error) : resolve())));

void describe('the control API listener', () => {
  it('writes a chunked reply one chunk per turn of the event loop, every byte in order', T, async () => {
    let turns = 0;
    let ticking = true;
    const tick = (): void => {
      if (!ticking) return;
      turns += 1;
      setImmediate(tick);
    };
    const served = await serveChunks(() => setImmediate(tick));
    try {
      const body = await new Promise<string>((resolve, reject) => {
        get(`http://127.0.0.1:${served.port}/`, { agent: false }, (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
          res.once('end', () => resolve(text));
        }).once('error', reject);
      });
      ticking = false;
      assert.equal(body, CHUNKS.join(''));
      // Written in one go, the loop would have had no turn between the first chunk and the last.
      assert.ok(turns >= CHUNKS.length - 2, `${turns} turns of the loop while ${CHUNKS.length} chunks were written`);
    } finally {
      ticking = false;
      await served.close();
    }
  });

  // Read in part and paused (the size limit of readJson), or never read (a declared length over the limit).
  for (const how of ['never read', 'read in part']) {
    it(`a body refused ${how}: the 413, then the rest is read; a client that finishes its upload sees a clean close, no reset`, T, async () => {
      // A long linger: the test is about what is read, and must not depend on how fast a loaded machine sends 1 MiB.
      const served = await serve(
        (request) => (how === 'never read' ? Promise.resolve(REFUSED) : new Promise((resolve) => request.raw.once('data', () => (request.raw.pause(), resolve(REFUSED))))),
        { lingerMs: 30_000 },
      );
      const client = rawClient(served.port);
      try {
        const body = Buffer.alloc(1024 * 1024, 0x20);
        await write(client.socket, `POST /workers HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`);
        await write(client.socket, body.subarray(0, 64 * 1024));
        await client.until(/^HTTP\/1\.1 413[^]*HSU_ERR_API_BODY_TOO_LARGE/);
        assert.match(client.received(), /connection: close/i);
        // The other 960 KiB, after the reply: read and dropped by the server, not left for a reset.
        for (let at = 64 * 1024; at < body.length; at += 64 * 1024) await write(client.socket, body.subarray(at, at + 64 * 1024));
        await client.closed;
        assert.deepEqual(client.errors, [], 'the connection closed without a reset');
      } finally {
        client.socket.destroy();
        await served.close();
      }
    });
  }

  it('an endless upload after the 413 is cut off once the linger time is over', T, async () => {
    const served = await serve(() => Promise.resolve(REFUSED));
    const client = rawClient(served.port);
    try {
      await write(client.socket, 'POST /workers HTTP/1.1\r\nhost: x\r\ncontent-length: 1000000000\r\n\r\n');
      await client.until(/^HTTP\/1\.1 413/);
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      let cut = false;
      void client.closed.then(() => (cut = true));
      // A correctness bound, not a timing: LINGER_MS is 1 s, and the upload would otherwise go on forever.
      const giveUp = performance.now() + 20 * LINGER_MS;
      while (!cut && performance.now() < giveUp) await write(client.socket, chunk).catch(() => (cut = true));
      assert.ok(cut, `the upload was never cut off (still open after ${20 * LINGER_MS} ms)`);
    } finally {
      client.socket.destroy();
      await served.close();
    }
  });
});
