// The API on a real unix socket, a real TCP port and TLS: file modes, the endpoint record, the
// token over the wire, a client that disconnects mid-stream, close() leaving nothing behind, and
// the ways listening can fail.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer as createNetServer } from 'node:net';
import path from 'node:path';
import { apiSettingsSchema, resolveApiSettings, type ApiSettingsInput } from '../../src/api/config.js';
import { ApiServer, type EndpointRecord } from '../../src/api/server.js';
import { createTestMaster, rejectsWithCode, type TestMaster } from '../helpers/master-helpers.js';
import { apiFixture, echoWorker, eventually, listenerCounts } from './helpers.js';

const T = { timeout: 30_000 };

interface Got {
  status: number;
  body: Record<string, unknown>;
}

function send(options: RequestOptions & { body?: unknown }, secure?: { ca: Buffer }): Promise<Got> {
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const done = (response: IncomingMessage): void => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }));
    };
    const req = secure === undefined ? httpRequest(options, done) : httpsRequest({ ...options, ca: secure.ca }, done);
    req.on('error', reject);
    req.end(payload);
  });
}

async function withServer(api: ApiSettingsInput, body: (t: TestMaster, server: ApiServer, stateDir: string) => Promise<void>, env: NodeJS.ProcessEnv = {}): Promise<void> {
  const t = createTestMaster();
  const stateDir = path.join(t.dir, 'state');
  const settings = resolveApiSettings(apiSettingsSchema.parse(api), stateDir, t.dir, env);
  const server = await ApiServer.start({ host: { master: t.master, logDir: path.join(t.dir, 'logs'), stateDir }, settings });
  try {
    await body(t, server, stateDir);
  } finally {
    await server.close();
    await t.dispose();
  }
}

void describe('control API server', () => {
  it('serves a unix socket born 0600 and a loopback TCP port, and says so in api.json (0600)', T, async () => {
    await withServer({ listen: '127.0.0.1:0' }, async (t, server, stateDir) => {
      t.master.addWorker(echoWorker(t, 'echo'));
      const socket = path.join(stateDir, 'hsu.sock');
      const stat = statSync(socket);
      assert.ok(stat.isSocket());
      assert.equal(stat.mode & 0o777, 0o600);
      const record = JSON.parse(readFileSync(path.join(stateDir, 'api.json'), 'utf8')) as EndpointRecord;
      assert.equal(statSync(path.join(stateDir, 'api.json')).mode & 0o777, 0o600);
      assert.deepEqual([record.pid, record.socket, record.url, record.token_file], [process.pid, socket, server.endpoint.url, path.join(stateDir, 'api.token')]);
      const port = Number(new URL(record.url!).port);
      const overSocket = await send({ socketPath: socket, path: '/workers' });
      assert.deepEqual([overSocket.status, (overSocket.body.workers as { id: string }[]).map((w) => w.id)], [200, ['echo']]);
      const overTcp = await send({ host: '127.0.0.1', port, path: '/' });
      assert.equal(overTcp.body.pid, process.pid);
      const token = readFileSync(record.token_file!, 'utf8').trim();
      const denied = await send({ host: '127.0.0.1', port, path: '/workers/echo/start', method: 'POST' });
      assert.deepEqual([denied.status, denied.body.code], [401, 'HSU_ERR_API_UNAUTHORIZED']);
      const allowed = await send({ host: '127.0.0.1', port, path: '/workers/echo/start', method: 'POST', headers: { authorization: `Bearer ${token}` } });
      assert.deepEqual([allowed.status, (allowed.body.worker as { state: string }).state], [200, 'running']);
      const rebound = await send({ host: '127.0.0.1', port, path: '/workers', headers: { host: `attacker.example:${port}` } });
      assert.deepEqual([rebound.status, rebound.body.code], [400, 'HSU_ERR_API_BAD_REQUEST']);
    });
  });

  it('serves TLS with the configured certificate; api.json names it for local clients', T, async () => {
    await withServer({ socket: false, listen: '127.0.0.1:0', tls: { cert: apiFixture('tls-cert.pem'), key: apiFixture('tls-key.pem') } }, async (_t, server) => {
      assert.match(server.endpoint.url ?? '', /^https:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(server.endpoint.ca_file, apiFixture('tls-cert.pem'));
      const port = Number(new URL(server.endpoint.url!).port);
      const got = await send({ host: '127.0.0.1', port, path: '/' }, { ca: readFileSync(apiFixture('tls-cert.pem')) });
      assert.equal(got.status, 200);
      await assert.rejects(send({ host: '127.0.0.1', port, path: '/' }, { ca: Buffer.from('') }), 'an unknown certificate is refused by the client');
    });
  });

  it('a client that disconnects mid-stream leaves no listener behind', T, async () => {
    await withServer({}, async (t, _server, stateDir) => {
      const baseline = listenerCounts(t);
      for (let round = 0; round < 5; round++) {
        await new Promise<void>((resolve, reject) => {
          const req = httpRequest({ socketPath: path.join(stateDir, 'hsu.sock'), path: '/events?types=state,exit,restart,health,added,removed,output' }, (response) => {
            response.once('data', () => {
              assert.equal(t.master.events.listenerCount('output'), baseline.output! + 1);
              req.destroy(); // the client goes away without a word
              resolve();
            });
          });
          req.on('error', () => undefined);
          req.once('error', reject);
          req.end();
        });
      }
      await eventually('every listener removed', () => (JSON.stringify(listenerCounts(t)) === JSON.stringify(baseline) ? true : undefined));
    });
  });

  it('close() ends open streams and connections and removes the socket and api.json; no handle remains', T, async () => {
    const t = createTestMaster();
    const stateDir = path.join(t.dir, 'state');
    try {
      const before = process.getActiveResourcesInfo();
      const server = await ApiServer.start({ host: { master: t.master, logDir: path.join(t.dir, 'logs'), stateDir }, settings: resolveApiSettings(apiSettingsSchema.parse({ listen: '127.0.0.1:0' }), stateDir, t.dir, {}) });
      const response = await new Promise<IncomingMessage>((resolve, reject) => {
        const req = httpRequest({ socketPath: path.join(stateDir, 'hsu.sock'), path: '/events' }, resolve);
        req.once('error', reject);
        req.end();
      });
      response.resume();
      const ended = new Promise((resolve) => response.once('end', resolve));
      await eventually('the stream is open', () => (t.master.events.listenerCount('state') > 1 ? true : undefined));
      await server.close();
      await ended;
      assert.equal(existsSync(path.join(stateDir, 'hsu.sock')), false);
      assert.equal(existsSync(path.join(stateDir, 'api.json')), false);
      // Earlier tests may still be finishing things of their own: nothing may be above the baseline.
      const counts = (list: string[]): Map<string, number> => list.reduce((m, r) => m.set(r, (m.get(r) ?? 0) + 1), new Map<string, number>());
      let last: string[] = [];
      await eventually('handles back to the baseline', () => {
        last = process.getActiveResourcesInfo();
        const was = counts(before);
        return [...counts(last)].every(([type, n]) => n <= (was.get(type) ?? 0)) ? true : undefined;
      }).catch((error: unknown) => assert.fail(`${String(error)}: before ${JSON.stringify(before)}, now ${JSON.stringify(last)}`));
      await server.close(); // idempotent
    } finally {
      await t.dispose();
    }
  });

  it('replaces a socket file a killed master left, refuses one in use, a non-socket file and a taken port', T, async () => {
    const t = createTestMaster();
    const stateDir = path.join(t.dir, 'state');
    const socket = path.join(t.dir, 's.sock');
    const start = (api: ApiSettingsInput): Promise<ApiServer> =>
      ApiServer.start({ host: { master: t.master, logDir: t.dir, stateDir }, settings: resolveApiSettings(apiSettingsSchema.parse(api), stateDir, t.dir, {}) });
    try {
      // A process that dies by SIGKILL never unlinks its socket.
      const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(socket)}, () => console.log('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise((resolve) => child.stdout.once('data', resolve));
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
      assert.ok(statSync(socket).isSocket());
      const server = await start({ socket });
      assert.equal((await send({ socketPath: socket, path: '/' })).status, 200);
      await rejectsWithCode(start({ socket }), 'HSU_ERR_API_LISTEN_FAILED');
      await server.close();
      const plain = path.join(t.dir, 'plain.txt');
      writeFileSync(plain, 'data');
      await rejectsWithCode(start({ socket: plain }), 'HSU_ERR_API_LISTEN_FAILED');
      assert.equal(readFileSync(plain, 'utf8'), 'data', 'a file in the way is not removed');
      const taken = createNetServer();
      await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
      const port = (taken.address() as { port: number }).port;
      const error = await rejectsWithCode(start({ socket: false, listen: `127.0.0.1:${port}` }), 'HSU_ERR_API_LISTEN_FAILED');
      assert.equal(error.context.errno, 'EADDRINUSE');
      await new Promise((resolve) => taken.close(resolve));
    } finally {
      await t.dispose();
    }
  });
});
