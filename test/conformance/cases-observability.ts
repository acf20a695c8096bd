// Logs reach the master's logger tagged with the worker id; endpoints are reported in diagnostics.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type conformance from '../fixtures/modules/conformance.js';
import { waitFor, type Deployment, type Suite } from './harness.js';

/** The endpoint a module has when it publishes none: how the call API reaches it. */
const DEFAULT_ENDPOINT: Record<Deployment, { type: string; address: (id: string, pid: number | null) => RegExp }> = {
  inline: { type: 'function', address: (id) => new RegExp(`^inline:${id}$`) },
  thread: { type: 'ipc', address: () => /^thread:\d+$/ },
  process: { type: 'ipc', address: (_id, pid) => new RegExp(`^pid:${pid ?? 'none'}$`) },
};

/** How many times a key appears in a raw JSON line (JSON.parse would hide a duplicate). */
function keyCount(line: string, key: string): number {
  return line.split(`"${key}":`).length - 1;
}

export function observabilityCases(s: Suite): void {
  void it("the module's ctx.logger output reaches the master's logger tagged with the worker id", async () => {
    const id = await s.start('logs');
    const marker = `m-${s.deployment}-${Date.now()}`;
    assert.equal(await s.master.client<typeof conformance>(id).log({ msg: 'hello from the module', marker }), true);
    const line = await s.logs.waitForLine('the module log line', (r) => r.marker === marker);
    const record = JSON.parse(line) as Record<string, unknown>;
    assert.equal(record.worker, id);
    assert.equal(record.msg, 'hello from the module');
    assert.equal(record.level, 30);
    assert.equal(keyCount(line, 'worker'), 1, `one worker tag per line: ${line}`);
    const childLine = await s.logs.waitForLine('the child logger line', (r) => r.marker === `${marker}-child`);
    const child = JSON.parse(childLine) as Record<string, unknown>;
    assert.deepEqual({ worker: child.worker, sub: child.sub, level: child.level }, { worker: id, sub: 'child', level: 40 });
    assert.equal(keyCount(childLine, 'worker'), 1, `one worker tag per line: ${childLine}`);
    await s.master.stopWorker(id);
  });

  if (s.deployment !== 'inline') {
    // Inline modules write to the master's own stdout: there is nothing to capture (docs/isolation.md).
    void it("the module's console output is captured and tagged with the worker id", async () => {
      const id = await s.start('stdout');
      const text = `printed-${s.deployment}-${Date.now()}`;
      await s.master.client<typeof conformance>(id).print(text);
      const record = JSON.parse(await s.logs.waitForLine('the printed line', (r) => r.msg === text)) as Record<string, unknown>;
      assert.deepEqual({ worker: record.worker, stream: record.stream }, { worker: id, stream: 'stdout' });
      await s.master.stopWorker(id);
    });
  }

  void it(`the default endpoint is ${DEFAULT_ENDPOINT[s.deployment].type}`, async () => {
    const id = await s.start('endpoint-default');
    const d = s.diagnostics(id);
    const expected = DEFAULT_ENDPOINT[s.deployment];
    assert.equal(d.endpoint?.type, expected.type);
    assert.match(d.endpoint?.address ?? '', expected.address(id, d.pid));
    await s.master.stopWorker(id);
    assert.equal(s.diagnostics(id).endpoint, null);
  });

  void it('a module serving HTTP reports its URL in diagnostics, and the URL answers', async () => {
    const id = await s.start('endpoint-url', { fixture: 'http-endpoint' });
    const d = s.diagnostics(id);
    assert.equal(d.endpoint?.type, 'url');
    assert.deepEqual(d.endpoint?.metadata, { protocol: 'http' });
    const address = d.endpoint?.address ?? '';
    assert.match(address, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const body = (await (await fetch(address, { signal: AbortSignal.timeout(10_000) })).json()) as { workerId: string; pid: number };
    assert.equal(body.workerId, id);
    assert.equal(body.pid, s.deployment === 'process' ? d.pid : process.pid);
    assert.equal(await s.master.call(id, 'ping', undefined), 'pong');
    await s.master.stopWorker(id);
    assert.equal(s.diagnostics(id).endpoint, null);
    // stop() closed the server: the port no longer answers.
    await assert.rejects(fetch(address, { signal: AbortSignal.timeout(10_000) }));
  });

  void it('the endpoint a restarted module publishes replaces the old one', async () => {
    const id = await s.start('endpoint-restart', { fixture: 'http-endpoint' });
    const first = s.diagnostics(id).endpoint?.address;
    await s.master.restartWorker(id);
    const second = await waitFor('a new endpoint', () => s.diagnostics(id).endpoint?.address);
    assert.match(second, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const body = (await (await fetch(second, { signal: AbortSignal.timeout(10_000) })).json()) as { workerId: string };
    assert.equal(body.workerId, id);
    assert.equal(typeof first, 'string');
    await s.master.stopWorker(id);
  });
}
