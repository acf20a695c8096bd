// The SSE streams over loopback: lifecycle events, a worker's live log lines from its
// files and from the master's output events, and that a stream that ends (the client cancels, the
// server closes, a reader stalls) leaves no listener and no open file behind.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import path from 'node:path';
import type { ControlEvents } from '../../src/api/host.js';
import type { ReloadReportBody } from '../../src/api/schemas.js';
import { sseReply } from '../../src/api/sse.js';
import { EventBus } from '../../src/events/bus.js';
import { openFilesUnder, pluginWorker } from '../helpers/master-helpers.js';
import { SseReader, echoWorker, eventually, listenerCounts, ping, withHarness, type SseEvent } from './helpers.js';

const T = { timeout: 30_000 };
const lineOf = (e: SseEvent): { stream: string; line: string; tail?: boolean; pid?: number } => e.data as never;

void describe('control API streams', () => {
  it('GET /events streams every state change, filtered by type and worker on request; cancelling leaves no listener', T, async () => {
    await withHarness(async (h) => {
      h.master.addWorker(echoWorker(h, 'echo'));
      h.master.addWorker(pluginWorker('plug', 'ok.mjs'));
      await h.master.start();
      const baseline = listenerCounts(h);
      const all = new SseReader(await h.request('GET', '/events', { token: false }));
      const filtered = new SseReader(await h.request('GET', '/events?types=state&worker=plug', { token: false }));
      // Both streams share one bus listener per type (the event hub), however many clients there are.
      await eventually('both streams subscribed', () => (h.master.events.listenerCount('state') === baseline.state! + 1 ? true : undefined));
      const third = new SseReader(await h.request('GET', '/events?types=state', { token: false }));
      await third.until('the stream open', () => true);
      assert.equal(h.master.events.listenerCount('state'), baseline.state! + 1);
      await third.cancel();
      assert.equal(h.master.events.listenerCount('output'), baseline.output, 'output lines only when asked for');
      await h.master.restartWorker('echo');
      await h.master.restartWorker('plug');
      const seen = await all.until('both restarts', (events) => (events.filter((e) => e.event === 'state' && (e.data as { to: string }).to === 'running').length === 2 ? events : undefined));
      const kinds = new Set(seen.map((e) => e.event));
      for (const kind of ['state', 'exit', 'restart']) assert.ok(kinds.has(kind), `a ${kind} event`);
      const plugOnly = await filtered.until('plug running again', (events) => (events.some((e) => (e.data as { to: string }).to === 'running') ? events : undefined));
      assert.ok(plugOnly.every((e) => e.event === 'state' && (e.data as { worker_id: string }).worker_id === 'plug'));
      await all.cancel();
      await filtered.cancel();
      await h.streamsClosed();
      assert.deepEqual(listenerCounts(h), baseline);
    });
  });

  it('reload reports reach the event stream; unknown event types are refused', T, async () => {
    const controlEvents = new EventBus<ControlEvents>();
    await withHarness(
      async (h) => {
        const stream = new SseReader(await h.request('GET', '/events?types=reload', { token: false }));
        await eventually('subscribed', () => (controlEvents.listenerCount('reload') === 1 ? true : undefined));
        const report: ReloadReportBody = { ok: true, file: '/x.yaml', added: ['a'], removed: [], changed: [], reconfigured: [], unchanged: [], errors: [], warnings: [], duration_ms: 3 };
        controlEvents.emit('reload', report);
        const [event] = await stream.until('the reload', (events) => (events.length > 0 ? events : undefined));
        assert.deepEqual(event, { event: 'reload', data: report });
        await stream.cancel();
        await h.streamsClosed();
        assert.equal(controlEvents.listenerCount('reload'), 0);
        const refused = await h.json('GET', '/events?types=state,gossip');
        assert.deepEqual([refused.status, refused.body.code], [400, 'HSU_ERR_API_BAD_REQUEST']);
      },
      { controlEvents },
    );
  });

  it('a worker log stream sends the tail of its files, then every new line; cancelling closes the files', T, async () => {
    await withHarness(async (h) => {
      h.master.addWorker(echoWorker(h, 'echo'));
      await h.master.start();
      await ping(h, 'echo', 2);
      const logs = path.join(h.dir, 'logs');
      await eventually('the second pong in the file', async () => ((await h.json<{ stderr: { lines: string[] } }>('GET', '/workers/echo/logs')).body.stderr.lines.includes('pong 2') ? true : undefined));
      const before = openFilesUnder(logs).length;
      const stream = new SseReader(await h.request('GET', '/workers/echo/logs/stream?lines=1', { token: false }));
      const tails = await stream.until('both tails', (events) => (events.filter((e) => lineOf(e).tail === true).length === 2 ? events : undefined));
      assert.deepEqual(
        tails.map((e) => `${lineOf(e).stream}:${lineOf(e).line}`).sort(),
        ['stderr:pong 2', 'stdout:ping 2'],
      );
      await ping(h, 'echo');
      const live = await stream.until('the live lines', (events) => {
        const found = events.filter((e) => lineOf(e).tail !== true).map((e) => `${lineOf(e).stream}:${lineOf(e).line}`);
        return found.length === 2 ? found.sort() : undefined;
      });
      assert.deepEqual(live, ['stderr:pong 3', 'stdout:ping 3']);
      assert.ok(openFilesUnder(logs).length >= before + 2, 'the followers hold the two files open');
      await stream.cancel();
      await h.streamsClosed();
      await Promise.all([...h.api.context.background]);
      assert.equal(openFilesUnder(logs).length, before, 'the followers closed their files');
    });
  });

  it('source=events streams the copied output lines with their pid; no output listener remains', T, async () => {
    await withHarness(async (h) => {
      h.master.addWorker(echoWorker(h, 'echo'));
      await h.master.start();
      const baseline = listenerCounts(h);
      const stream = new SseReader(await h.request('GET', '/workers/echo/logs/stream?source=events&lines=0', { token: false }));
      await eventually('subscribed', () => (h.master.events.listenerCount('output') === baseline.output! + 1 ? true : undefined));
      await ping(h, 'echo');
      const pid = h.master.getWorkerStateWithDiagnostics('echo').pid;
      const lines = await stream.until('ping and pong', (events) => {
        const found = events.map(lineOf).filter((l) => l.line !== 'ready');
        return found.length === 2 ? found : undefined;
      });
      assert.deepEqual(lines.map((l) => [l.stream, l.line, l.pid]).sort(), [
        ['stderr', 'pong 1', pid],
        ['stdout', 'ping 1', pid],
      ]);
      await stream.cancel();
      await h.streamsClosed();
      assert.deepEqual(listenerCounts(h), baseline);
      const inline = await h.json('GET', '/workers/nope/logs/stream');
      assert.equal(inline.status, 404);
    });
  });

  it('the server ends open streams when it closes', T, async () => {
    await withHarness(async (h) => {
      const baseline = listenerCounts(h);
      const stream = new SseReader(await h.request('GET', '/events', { token: false }));
      await eventually('registered', () => (h.api.context.streams.size === 1 ? true : undefined));
      for (const end of [...h.api.context.streams]) end();
      await stream.end();
      assert.equal(stream.done, true);
      assert.equal(h.api.context.streams.size, 0);
      assert.deepEqual(listenerCounts(h), baseline);
    });
  });

  it('HEAD of a stream answers its headers and opens nothing', T, async () => {
    await withHarness(async (h) => {
      h.master.addWorker(echoWorker(h, 'echo'));
      await h.master.start();
      const baseline = listenerCounts(h);
      for (const pathname of ['/events', '/workers/echo/logs/stream']) {
        const response = await h.request('HEAD', pathname, { token: false });
        assert.equal(response.status, 200, pathname);
        assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
        assert.equal(await response.text(), '');
      }
      assert.equal(h.api.context.streams.size, 0, 'no stream was registered');
      assert.deepEqual(listenerCounts(h), baseline);
    });
  });

  it('a client that stops reading is cut off once its queue passes the bound, and its subscription ends', T, async () => {
    let tornDown = 0;
    let send: ((n: number) => boolean) | undefined;
    const reply = sseReply(
      (sse) => {
        send = (n) => sse.send('tick', { n, pad: 'x'.repeat(1000) });
        return () => void (tornDown += 1);
      },
      { maxQueueBytes: 64 * 1024 },
    );
    assert.ok('stream' in reply);
    const server = createServer((_request, response) => {
      response.writeHead(reply.status, reply.headers);
      reply.stream(response);
    });
    const opened = new Promise<void>((resolve) => server.once('request', () => setImmediate(resolve)));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    // A client that sends its request and then never reads a byte.
    const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
    client.pause();
    const clientClosed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    client.write('GET / HTTP/1.1\r\nhost: x\r\n\r\n');
    try {
      await opened;
      let sent = 0;
      // The kernel's socket buffers take the first megabytes; past them the bound applies.
      const LIMIT = 100_000;
      while (sent < LIMIT && send!(sent)) sent += 1;
      assert.ok(sent < LIMIT, `never cut off (${sent} events of ~1 kB)`);
      assert.equal(tornDown, 1);
      assert.equal(send!(sent), false, 'nothing more is queued');
      client.resume();
      await clientClosed; // its connection was cut: the client reads what the kernel held, then the end
      assert.equal(tornDown, 1, 'torn down exactly once');
    } finally {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
