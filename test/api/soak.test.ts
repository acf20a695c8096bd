// Soak of the control API's hot paths over a real unix socket: thousands of list requests, and
// hundreds of SSE clients that connect, receive events and vanish. Memory after a forced GC stays
// within a bound, and the bus has its baseline listener count at the end.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import path from 'node:path';
import { apiSettingsSchema, resolveApiSettings } from '../../src/api/config.js';
import { ApiServer } from '../../src/api/server.js';
import { createTestMaster, pluginWorker } from '../helpers/master-helpers.js';
import { eventually, listenerCounts } from './helpers.js';
import { heapAfterGc } from '../helpers/gc.js';

const T = { timeout: 120_000 };


function get(socketPath: string, pathname: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path: pathname, agent: false }, (response) => {
      response.resume();
      response.once('end', () => resolve(response.statusCode ?? 0));
    });
    req.once('error', reject);
    req.end();
  });
}

/** Opens /events (`opened` once its first bytes arrive: it has subscribed by then), waits for `events` state events, then drops the connection. */
function briefSubscriber(socketPath: string, events: number): { opened: Promise<void>; done: Promise<void> } {
  let markOpened!: () => void;
  const opened = new Promise<void>((resolve) => (markOpened = resolve));
  const done = new Promise<void>((resolve, reject) => {
    let seen = 0;
    const req = request({ socketPath, path: '/events?types=state', agent: false }, (response) => {
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        markOpened();
        seen += chunk.split('event: state').length - 1;
        if (seen >= events) {
          req.destroy();
          resolve();
        }
      });
    });
    req.on('error', () => undefined);
    req.once('error', (error) => (seen >= events ? undefined : reject(error)));
    req.end();
  });
  return { opened, done };
}

void describe('control API soak', () => {
  it('list requests and short-lived SSE clients do not grow memory or leave listeners', T, async () => {
    const t = createTestMaster();
    const stateDir = path.join(t.dir, 'state');
    const server = await ApiServer.start({ host: { master: t.master, logDir: t.dir, stateDir }, settings: resolveApiSettings(apiSettingsSchema.parse({}), stateDir, t.dir, {}) });
    const socket = path.join(stateDir, 'hsu.sock');
    try {
      for (let i = 0; i < 20; i++) t.master.addWorker(pluginWorker(`w${i}`, 'ok.mjs'));
      await t.master.start();
      const baseline = listenerCounts(t);
      const settled = (): true | undefined => (JSON.stringify(listenerCounts(t)) === JSON.stringify(baseline) ? true : undefined);
      const round = async (): Promise<void> => {
        for (let i = 0; i < 400; i++) assert.equal(await get(socket, '/workers'), 200);
        for (let i = 0; i < 20; i++) {
          await eventually('the last subscribers gone', settled);
          const subscribers = Array.from({ length: 4 }, () => briefSubscriber(socket, 2));
          await Promise.all(subscribers.map((s) => s.opened));
          await t.master.restartWorker(`w${i % 20}`);
          await Promise.all(subscribers.map((s) => s.done));
        }
      };
      await round(); // warm up: JIT, pools, lazily built things
      const before = heapAfterGc();
      for (let r = 0; r < 3; r++) await round();
      await eventually('every subscriber gone', settled);
      const grown = heapAfterGc() - before;
      assert.ok(grown < 8 * 1024 * 1024, `heap grew ${(grown / 1024 / 1024).toFixed(1)} MB over 1,200 requests and 240 streams`);
    } finally {
      await server.close();
      await t.dispose();
    }
  });
});
