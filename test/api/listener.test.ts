// The node:http listener on a real loopback socket: a chunked reply gives the event loop a turn
// between chunks (a 1,000-worker scrape is megabytes: written in one go it is one long stall),
// and every byte arrives in order.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, get } from 'node:http';
import type { AddressInfo } from 'node:net';
import { requestListener } from '../../src/api/http/listener.js';

const T = { timeout: 30_000 };
const CHUNKS = Array.from({ length: 40 }, (_, i) => `${String(i).padStart(2, '0')}${'x'.repeat(4094)}\n`);

async function serveChunks(onRequest: () => void): Promise<{ port: number; close: () => Promise<void> }> {
  const server = createServer(
    requestListener(() => {
      onRequest();
      return Promise.resolve({ status: 200, headers: { 'content-type': 'text/plain' }, chunks: CHUNKS });
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

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
});
