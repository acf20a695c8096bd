// The dashboard in a real browser (Debian's chromium driven by playwright-core): open the page of
// a running `hsu run`, give the token once, see the demo workers, restart one and see its new pid
// without a reload, select it and watch a log line arrive, see the charts fill; then the same page
// through `hsu dashboard` for a master whose API is on its unix socket only.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { repoRoot } from '../helpers/paths.js';
import { freePort } from '../observability/prometheus.js';
import { CHROMIUM, chromiumMissing, descendants, startDemoMaster, testOutput } from './helpers.js';

// What the functions evaluated in the page use of the DOM (the project compiles without the DOM library).
interface PageElement {
  readonly textContent: string | null;
  getAttribute(name: string): string | null;
}
declare const document: { querySelector(selector: string): PageElement | null; querySelectorAll(selector: string): Iterable<PageElement> };
declare const window: Record<string, unknown>;
declare const sessionStorage: { getItem(key: string): string | null };

const T = { timeout: 120_000, skip: chromiumMissing() };
const WAIT = { timeout: 20_000 };

async function withBrowser(body: (page: Page) => Promise<void>): Promise<void> {
  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], headless: true });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await body(page);
    assert.deepEqual(errors, [], 'the page threw nothing');
  } finally {
    await browser.close();
  }
  assert.deepEqual(descendants(/chrom/), [], 'no browser process is left');
}

const cell = (id: string, field: string): string => `tr[data-worker="${id}"] td[data-field="${field}"]`;

void describe('dashboard in a browser', () => {
  it('shows the workers live: restart shows the new pid without a reload, log lines arrive, charts fill', T, async () => {
    const demo = await startDemoMaster(`127.0.0.1:${await freePort()}`);
    try {
      await withBrowser(async (page) => {
        await page.goto(demo.url ?? '');
        // The token is asked for once.
        await page.waitForSelector('#token-dialog[open]', WAIT);
        await page.fill('#token-input', demo.token);
        await page.press('#token-input', 'Enter');
        for (const id of ['ticker', 'greeter', 'counter']) await page.waitForSelector(`${cell(id, 'state')}:text("running")`, WAIT);
        assert.equal(await page.textContent(cell('greeter', 'runtime')), 'thread');
        assert.equal(await page.textContent(cell('counter', 'runtime')), 'inline');
        assert.equal(await page.evaluate(() => sessionStorage.getItem('hsu.token') !== null), true, 'the token is kept for the tab');
        const pid = (await page.textContent(cell('ticker', 'pid'))) ?? '';
        assert.match(pid, /^\d+$/);

        await page.evaluate(() => (window.notReloaded = true));
        await page.click(`tr[data-worker="ticker"] button[data-action="restart"]`);
        await page.waitForFunction(([selector, old]) => /^\d+$/.test(document.querySelector(selector!)?.textContent ?? '') && document.querySelector(selector!)?.textContent !== old, [cell('ticker', 'pid'), pid], WAIT);
        await page.waitForSelector(`${cell('ticker', 'state')}:text("running")`, WAIT);
        assert.equal(await page.evaluate(() => window.notReloaded), true, 'the page was not reloaded');
        const newPid = (await page.textContent(cell('ticker', 'pid'))) ?? '';
        assert.notEqual(newPid, pid);

        // The ticker is selected (the first worker): its log pane follows it.
        await page.click(cell('ticker', 'id'));
        await page.waitForSelector(`#log div:text("ticker ${newPid} started, every 200 ms")`, WAIT);
        const seen = await page.$$eval('#log div', (lines) => lines.map((l) => l.textContent ?? ''));
        await page.waitForFunction((before) => [...document.querySelectorAll('#log div')].some((l) => /^tick \d+$/.test(l.textContent ?? '') && !before.includes(l.textContent ?? '')), seen, WAIT);
        // The restart is in its transition timeline.
        await page.waitForSelector('#timeline li:has-text("running → stopping")', WAIT);
        // Usage frames arrive every 2 s: the charts get lines, the table CPU and memory.
        await page.waitForFunction(() => (document.querySelector('#master-cpu-chart polyline')?.getAttribute('points') ?? '').split(' ').length >= 2, undefined, WAIT);
        await page.waitForFunction((selector) => /MiB$/.test(document.querySelector(selector)?.textContent ?? ''), cell('ticker', 'memory'), WAIT);
        const file = testOutput('dashboard.png');
        await page.screenshot({ path: file });
        process.stdout.write(`# screenshot: ${path.relative(repoRoot, file)}\n`);
      });
    } finally {
      assert.equal(await demo.stop(), 0, 'hsu run stopped gracefully');
    }
  });

  it('hsu dashboard serves the page for a socket-only API, the token on every request', T, async () => {
    const demo = await startDemoMaster();
    assert.equal(demo.url, null, 'this master listens on its socket only');
    const child = spawn(process.execPath, [path.join(repoRoot, 'dist', 'src', 'cli', 'bin.js'), 'dashboard', '--state-dir', demo.stateDir, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const first = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout }).once('line', resolve);
        child.once('exit', (code) => reject(new Error(`hsu dashboard exited with ${code}`)));
      });
      const { url, port } = JSON.parse(first) as { url: string; port: number };
      assert.match(url, new RegExp(`^http://127\\.0\\.0\\.1:${port}/#token=`));
      const base = url.slice(0, url.indexOf('#'));
      // Reads need the token here (the socket is the owner's alone; a loopback port is every local user's).
      assert.equal((await fetch(`${base}workers`)).status, 401);
      assert.equal((await fetch(`${base}workers`, { headers: { authorization: 'Bearer wrong' } })).status, 401);
      assert.equal((await fetch(`${base}workers`, { headers: { authorization: `Bearer ${demo.token}` } })).status, 200);
      const page = await fetch(base, { headers: { accept: 'text/html' } });
      assert.equal(page.status, 200, 'the page itself needs no token');
      assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/);
      const rebound = await new Promise<number>((resolve, reject) => {
        request({ host: '127.0.0.1', port, path: '/workers', headers: { host: `attacker.example:${port}`, authorization: `Bearer ${demo.token}` } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        })
          .once('error', reject)
          .end();
      });
      assert.equal(rebound, 400, 'a Host that is not the port itself is refused (DNS rebinding)');

      await withBrowser(async (page) => {
        await page.goto(url);
        await page.waitForSelector(`${cell('greeter', 'state')}:text("running")`, WAIT);
        assert.equal(await page.isVisible('#token-dialog[open]'), false, 'no token prompt: it came with the URL');
        assert.equal(new URL(page.url()).hash, '', 'the token is taken out of the address bar');
        await page.click(`tr[data-worker="greeter"] button[data-action="stop"]`);
        await page.waitForSelector(`${cell('greeter', 'state')}:text("stopped")`, WAIT);
        await page.click(`tr[data-worker="greeter"] button[data-action="start"]`);
        await page.waitForSelector(`${cell('greeter', 'state')}:text("running")`, WAIT);
        await page.click(cell('counter', 'id'));
        await page.waitForSelector('#log div:has-text("inline")', WAIT);
      });
    } finally {
      const exited = new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', resolve)));
      child.kill('SIGINT');
      assert.equal(await exited, 0, 'hsu dashboard ends on Ctrl-C');
      assert.equal(await demo.stop(), 0);
    }
  });
});
