// The control API's page, files and usage stream: a browser gets the page at / (with its security
// headers), everything else keeps the JSON; /usage pushes CPU and memory frames and its sampling
// loop ends with the last watcher.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createApiApp } from '../../src/api/app.js';
import { usageHubOf } from '../../src/observability/index.js';
import { SseReader, withServedApi } from '../api/helpers.js';
import { nodeWorker, withMaster } from '../helpers/master-helpers.js';
import { tracedWorker } from './helpers.js';

const T = { timeout: 30_000 };
const TOKEN = 'api-test-token-0123456789';

void describe('dashboard and usage on the control API', () => {
  it('serves the page to a browser at / and JSON to everyone else', T, async () => {
    await withMaster(async (t) => {
      await withServedApi(createApiApp({ master: t.master, logDir: t.dir }, { token: TOKEN, readsNeedToken: true }), async (app) => {
      const page = await app.request('/', { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
      assert.equal(page.status, 200, 'the page needs no token, even where reads do');
      assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
      assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'.*frame-ancestors 'none'/);
      assert.equal(page.headers.get('vary'), 'Accept');
      assert.match(await page.text(), /<script type="module" src="\/dashboard\/app\.js">/);
      for (const accept of ['application/json', '*/*', undefined]) {
        const json = await app.request('/', { headers: { ...(accept === undefined ? {} : { accept }), authorization: `Bearer ${TOKEN}` } });
        assert.equal(json.status, 200);
        assert.equal(((await json.json()) as { name: string }).name, 'hsu', `Accept ${accept ?? '(none)'} gets the master info`);
      }
      assert.equal((await app.request('/', { headers: { accept: 'application/json' } })).status, 401, 'the data still needs the token');
      const script = await app.request('/dashboard/app.js');
      assert.match(script.headers.get('content-type') ?? '', /^text\/javascript/);
      assert.match(await script.text(), /sessionStorage/);
      assert.equal((await app.request('/dashboard/style.css', { method: 'HEAD' })).status, 200);
      for (const bad of ['/dashboard/../package.json', '/dashboard/%2e%2e%2fpackage.json', '/dashboard/missing.js']) {
        const response = await app.request(bad, { headers: { authorization: `Bearer ${TOKEN}` } });
        assert.equal(response.status, 404, bad);
        assert.equal(((await response.json()) as { code: string }).code, 'HSU_ERR_API_ROUTE_NOT_FOUND');
      }
      });
    });
  });

  it('/usage pushes CPU and memory of the master and its workers, and stops sampling when nobody watches', T, async () => {
    await withMaster(async (t) => {
      t.master.addWorker(nodeWorker(t, 'sleeper', 'forever.mjs'));
      t.master.addWorker(tracedWorker('threaded', 'thread'));
      await t.master.start();
      await t.events.line('sleeper', (l) => l === 'ready');
      t.master.getWorkerStateWithDiagnostics('threaded'); // asks for the thread's heap
      const api = createApiApp({ master: t.master, logDir: t.dir }, { token: TOKEN });
      const { context } = api;
      await withServedApi(api, async (app) => {
      const timersBefore = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
      const controller = new AbortController();
      const reader = new SseReader(await app.request('/usage', { signal: controller.signal }));
      type Frame = { master: { rss_bytes: number; cpu_percent: number | null }; workers: Record<string, { rss_bytes: number | null; cpu_percent: number | null; heap_used_bytes: number | null }> };
      const frames = await reader.until('two usage frames', (events) => {
        const usage = events.filter((e) => e.event === 'usage').map((e) => e.data as Frame);
        return usage.length >= 2 && usage[1]!.workers.threaded?.heap_used_bytes != null ? usage : undefined;
      });
      const [first, second] = frames as [Frame, Frame];
      assert.ok(first.master.rss_bytes > 0);
      assert.equal(first.master.cpu_percent, null, 'no CPU figure before there are two samples');
      assert.equal(typeof second.master.cpu_percent, 'number');
      assert.ok((second.workers.sleeper?.rss_bytes ?? 0) > 0);
      assert.equal(typeof second.workers.sleeper?.cpu_percent, 'number');
      assert.ok((second.workers.threaded?.heap_used_bytes ?? 0) > 0);
      assert.equal(usageHubOf(t.master).watching, 1);
      await reader.cancel();
      controller.abort();
      await t.events.waitFor('the stream to end', () => (usageHubOf(t.master).watching === 0 ? true : undefined), 10_000, 20);
      assert.equal(context.streams.size, 0);
      assert.ok(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length <= timersBefore, 'the sampling timer is gone');
      });
    });
  });
});
