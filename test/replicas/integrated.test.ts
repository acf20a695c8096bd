// `instances: 3` of an integrated process (an HTTP server the master gives a port) from a YAML
// file: three replicas web#0..#2, each with its own port, registered as three distinct URLs that
// each answer from their own process; a replica killed comes back on a new port while the others
// keep theirs; a fixed base port gives replica n the port base + n, and a `service.endpoint`
// template is filled with each replica's port.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import type { Master } from '../../src/index.js';
import { diagnostics, waitForGone } from '../helpers/master-helpers.js';
import { until, withConfig } from './helpers.js';

const T = { timeout: 90_000 };

async function get(url: string): Promise<string> {
  const response = await fetch(url, { headers: { connection: 'close' } });
  return response.text();
}

/** The registered URL of each replica of `service`, by replica id. */
function urls(master: Master, service: string): Record<string, string> {
  return Object.fromEntries(master.services.registry.instances(service).map((instance) => [instance.id, instance.endpoint.address]));
}

/** A base port whose next two are free as well (checked by listening on each). */
async function threeFreePorts(): Promise<number> {
  const listen = (port: number): Promise<number | undefined> =>
    new Promise((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(undefined));
      server.listen({ port, host: '127.0.0.1', exclusive: true }, () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : undefined));
      });
    });
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = await listen(0);
    if (base === undefined || base > 65_000) continue;
    if ((await listen(base + 1)) !== undefined && (await listen(base + 2)) !== undefined) return base;
  }
  assert.fail('no three consecutive free ports on 127.0.0.1');
}

void describe('integrated process replicas', () => {
  it('instances: 3 run web#0..#2 on three ports; each registered URL answers from its own process; a killed one returns on a new port', T, async () => {
    await withConfig(
      (p) => `
  - id: web
    type: process
    management: integrated
    instances: 3
    restart: { policy: always, backoff: { initial: 20ms, max: 100ms } }
    execution: { executable_path: ${JSON.stringify(p.node)}, args: [${JSON.stringify(p.http)}] }
`,
      async ({ master }) => {
        const results = await master.start();
        assert.deepEqual(
          results.map((r) => [r.id, r.ok]),
          [
            ['web#0', true],
            ['web#1', true],
            ['web#2', true],
          ],
        );
        assert.deepEqual(master.listReplicas('web'), ['web#0', 'web#1', 'web#2']);
        const before = urls(master, 'web');
        assert.deepEqual(Object.keys(before).sort(), ['web#0', 'web#1', 'web#2']);
        assert.equal(new Set(Object.values(before)).size, 3, `three distinct URLs: ${JSON.stringify(before)}`);
        for (const [id, url] of Object.entries(before)) {
          const d = diagnostics(master, id);
          assert.equal(url, `http://127.0.0.1:${String(d.details.port)}`, `${id}'s URL is its assigned port`);
          assert.equal(await get(url), `ok ${String(d.pid)}`, `${id}'s URL is served by ${id}'s own process`);
          assert.equal(master.services.registry.get(id)?.health, 'healthy');
        }

        const victim = diagnostics(master, 'web#1').pid as number;
        process.kill(victim, 'SIGKILL');
        assert.deepEqual(await waitForGone([victim]), []);
        await until('web#1 to run again with a new process', () => master.getWorkerState('web#1') === 'running' && diagnostics(master, 'web#1').pid !== victim);
        await until('web#1 to be registered healthy again', () => master.services.registry.get('web#1')?.health === 'healthy');
        const after = urls(master, 'web');
        assert.equal(after['web#0'], before['web#0'], 'the siblings kept their ports');
        assert.equal(after['web#2'], before['web#2']);
        assert.equal(new Set(Object.values(after)).size, 3);
        assert.equal(await get(after['web#1'] as string), `ok ${String(diagnostics(master, 'web#1').pid)}`);
      },
    );
  });

  it('a fixed base port gives replica n the port base + n; a service.endpoint template is filled per replica', T, async () => {
    const base = await threeFreePorts();
    await withConfig(
      (p) => `
  - id: site
    type: process
    management: integrated
    instances: 3
    integration: { port: ${base} }
    service: { name: site, endpoint: { type: url, address: "http://localhost:{port}/hello" }, metadata: { zone: a } }
    execution: { executable_path: ${JSON.stringify(p.node)}, args: [${JSON.stringify(p.http)}] }
`,
      async ({ master }) => {
        await master.start();
        const instances = [...master.services.registry.instances('site')].sort((a, b) => a.id.localeCompare(b.id));
        assert.deepEqual(
          instances.map((i) => [i.id, i.endpoint.type, i.endpoint.address, i.metadata.zone, i.metadata.replica]),
          [0, 1, 2].map((n) => [`site#${n}`, 'url', `http://localhost:${base + n}/hello`, 'a', n]),
        );
        for (const instance of instances) assert.equal(await get(instance.endpoint.address), `ok ${String(diagnostics(master, instance.id).pid)}`);
      },
    );
  });

  it(
    'with the default `cgroups: auto`, process replicas start, each in a cgroup of its own',
    T,
    async () => {
      await withConfig(
        (p) => `
  - id: web
    type: process
    management: integrated
    instances: 2
    execution: { executable_path: ${JSON.stringify(p.node)}, args: [${JSON.stringify(p.http)}] }
`,
        async ({ master }) => {
          const results = await master.start();
          assert.deepEqual(
            results.map((r) => [r.id, r.ok, r.error?.code]),
            [
              ['web#0', true, undefined],
              ['web#1', true, undefined],
            ],
          );
          const groups = master.listReplicas('web').map((id) => diagnostics(master, id).details.cgroup);
          assert.equal(new Set(groups).size, 2, `a cgroup each (null where the machine has none): ${JSON.stringify(groups)}`);
        },
        { cgroups: 'auto' },
      );
    },
  );
});
